package dev.usagetracker.local;

import dev.usagetracker.local.HttpApiGateway.LocalResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;

/**
 * The live dashboard at {@code /dashboard}: static HTML, CSS and JavaScript from the runtime's class
 * path (no CDN, no build step), served with a Content-Security-Policy that allows nothing but this
 * origin — no inline script or style, no framing. The page talks only to the public API.
 */
final class Dashboard {
    static final String PAGE = "/dashboard";
    static final String ASSETS = "/dashboard/";
    private static final String ROOT = "dashboard/";
    private static final Map<String, String> TYPES = Map.of(
            "html", "text/html; charset=utf-8",
            "css", "text/css; charset=utf-8",
            "js", "text/javascript; charset=utf-8",
            "svg", "image/svg+xml");
    static final Map<String, String> HEADERS = Map.of(
            "Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                    + "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
            "Referrer-Policy", "no-referrer",
            "X-Frame-Options", "DENY",
            "Cross-Origin-Opener-Policy", "same-origin");

    private Dashboard() {}

    static void install(HttpApiGateway gateway) {
        gateway.addLocalRoute("GET", PAGE, path -> asset("index.html").orElseThrow());
        gateway.addLocalRoute("GET", ASSETS, path -> asset(path.substring(ASSETS.length()))
                .orElseGet(() -> new LocalResponse(404, "application/problem+json", ("{\"type\":\"https://usage-tracker.dev/problems/not-found\","
                        + "\"title\":\"Not found\",\"status\":404,\"detail\":\"No dashboard file at this path.\",\"instance\":\"urn:request:local\"}")
                        .getBytes(StandardCharsets.UTF_8))));
    }

    /** A file of the page by its plain name (never a path), or empty. */
    static Optional<LocalResponse> asset(String name) {
        if (!name.matches("[a-z0-9-]+\\.[a-z]+")) return Optional.empty();
        String type = TYPES.get(name.substring(name.lastIndexOf('.') + 1));
        if (type == null) return Optional.empty();
        try (InputStream in = Dashboard.class.getClassLoader().getResourceAsStream(ROOT + name)) {
            return in == null ? Optional.empty() : Optional.of(new LocalResponse(200, type, in.readAllBytes(), HEADERS));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
