package dev.usagetracker.local;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

/**
 * Swagger UI from the {@code org.webjars:swagger-ui} jar on the runtime's class path (no CDN): the
 * page at {@code /docs} and its assets under {@code /docs/}. It reads {@code /openapi.json}.
 */
final class SwaggerUi {
    static final String PAGE = "/docs";
    static final String ASSETS = "/docs/";
    private static final Map<String, String> TYPES = Map.of(
            "css", "text/css; charset=utf-8",
            "js", "text/javascript; charset=utf-8",
            "png", "image/png",
            "html", "text/html; charset=utf-8");

    /** The script that starts Swagger UI on our document; also answers for the webjar's stock initializer. */
    static final String INIT_SCRIPT = "usage-tracker-init.js";
    /**
     * Swagger UI is where people paste API keys: it may not be framed (clickjacking), may run only its
     * own scripts (no inline script: the start-up code is {@link #INIT_SCRIPT}) and talk only to this
     * origin. Swagger UI sets inline styles, hence style-src 'unsafe-inline'; its icons are data: URIs.
     */
    static final Map<String, String> HEADERS = Map.of(
            "Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                    + "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
            "X-Frame-Options", "DENY",
            "Referrer-Policy", "no-referrer");

    private final String root;
    private final String version;

    SwaggerUi() {
        Properties p = new Properties();
        try (InputStream in = SwaggerUi.class.getResourceAsStream("/META-INF/maven/org.webjars/swagger-ui/pom.properties")) {
            if (in == null) throw new IllegalStateException("org.webjars:swagger-ui is not on the class path");
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        version = p.getProperty("version");
        root = "META-INF/resources/webjars/swagger-ui/" + version + "/";
    }

    String version() {
        return version;
    }

    byte[] page() {
        String html = """
                <!DOCTYPE html>
                <html lang="en">
                <head>
                  <meta charset="UTF-8">
                  <title>usage-tracker API</title>
                  <link rel="stylesheet" href="/docs/swagger-ui.css">
                  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32">
                  <style>body { margin: 0; }</style>
                </head>
                <body>
                  <div id="swagger-ui"></div>
                  <script src="/docs/swagger-ui-bundle.js"></script>
                  <script src="/docs/swagger-ui-standalone-preset.js"></script>
                  <script src="/docs/usage-tracker-init.js"></script>
                </body>
                </html>
                """;
        return html.getBytes(StandardCharsets.UTF_8);
    }

    byte[] initScript() {
        return """
                window.ui = SwaggerUIBundle({
                  url: "/openapi.json",
                  dom_id: "#swagger-ui",
                  deepLinking: true,
                  tryItOutEnabled: true,
                  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
                  layout: "StandaloneLayout"
                });
                """.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * An asset by its name under /docs/, or empty; names are plain file names, never paths. The webjar's
     * own index.html and swagger-initializer.js would load the petstore example from the internet: they
     * answer with our page and our start-up script instead.
     */
    Optional<Asset> asset(String name) {
        if (name.equals("index.html")) return Optional.of(new Asset(TYPES.get("html"), page()));
        if (name.equals(INIT_SCRIPT) || name.equals("swagger-initializer.js")) return Optional.of(new Asset(TYPES.get("js"), initScript()));
        if (!name.matches("[A-Za-z0-9._-]+") || name.startsWith(".")) return Optional.empty();
        String type = TYPES.get(name.substring(name.lastIndexOf('.') + 1));
        if (type == null) return Optional.empty();
        try (InputStream in = SwaggerUi.class.getClassLoader().getResourceAsStream(root + name)) {
            return in == null ? Optional.empty() : Optional.of(new Asset(type, in.readAllBytes()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    record Asset(String contentType, byte[] body) {}
}
