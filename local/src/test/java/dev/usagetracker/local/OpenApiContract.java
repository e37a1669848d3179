package dev.usagetracker.local;

import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.dialect.Dialects;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.StringNode;

/**
 * openapi.yaml as an executable contract: checks one HTTP exchange against the operation it hit —
 * the status is documented, every required header is present and matches its schema, the content type
 * is one the operation declares, and the body matches the schema (JSON Schema 2020-12, OpenAPI 3.1
 * dialect). A request the server accepted (2xx) must also match the documented request body, so the
 * server can neither answer nor accept what the document does not say. Paths that are not in the
 * document must get a 404 problem. Every exchange checked is counted for the coverage report.
 */
final class OpenApiContract {
    private static final String BASE = "https://usage-tracker.dev/openapi.json";
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Set<String> METHODS = Set.of("get", "put", "post", "delete", "patch", "head", "options");
    private static volatile OpenApiContract instance;

    private final JsonNode document;
    private final SchemaRegistry registry;
    private final Map<String, Schema> schemas = new ConcurrentHashMap<>();
    private final Map<String, Set<String>> seen = new ConcurrentHashMap<>();

    /** A node of the document and its JSON pointer. */
    private record Located(JsonNode node, String pointer) {
        Located at(String name) {
            return new Located(node.path(name), pointer + "/" + name.replace("~", "~0").replace("/", "~1"));
        }
    }

    OpenApiContract(byte[] openApiJson) {
        String json = new String(openApiJson, StandardCharsets.UTF_8);
        document = JSON.readTree(json);
        registry = SchemaRegistry.withDefaultDialect(Dialects.getOpenApi31(), b -> b.schemas(Map.of(BASE, json)));
    }

    /** The contract as the local runtime serves it: the repository's openapi.yaml. */
    static OpenApiContract get() {
        OpenApiContract c = instance;
        if (c == null) {
            synchronized (OpenApiContract.class) {
                c = instance;
                if (c == null) {
                    c = new OpenApiContract(OpenApiDocument.load(TestStack.PROJECT_ROOT).json());
                    Runtime.getRuntime().addShutdownHook(new Thread(c::writeCoverage, "contract-coverage"));
                    instance = c;
                }
            }
        }
        return c;
    }

    /** Throws an AssertionError that lists every way the exchange breaks the contract. */
    void check(String method, String uri, String requestBody, HttpJson.Reply reply) {
        String op = method.toUpperCase(Locale.ROOT) + " " + uri.replaceFirst("[?#].*$", "");
        seen.computeIfAbsent(op, k -> ConcurrentHashMap.newKeySet()).add(Integer.toString(reply.status()));
        List<String> problems = violations(method, uri, requestBody, reply);
        if (!problems.isEmpty()) {
            throw new AssertionError("response breaks openapi.yaml: " + method + " " + uri + " → " + reply.status()
                    + "\n  - " + String.join("\n  - ", problems) + "\n  body: " + abbreviate(reply.body()));
        }
    }

    List<String> violations(String method, String uri, String requestBody, HttpJson.Reply reply) {
        List<String> out = new ArrayList<>();
        String path = templated(uri.replaceFirst("[?#].*$", ""));
        Located item = new Located(document, "").at("paths").at(path);
        String op = method.toUpperCase(Locale.ROOT) + " " + path;
        if (item.node().isMissingNode()) {
            // Not part of the API: the only acceptable answer is a 404 problem.
            expectProblem(reply, 404, "an undocumented path", out);
            return out;
        }
        Located operation = item.at(method.toLowerCase(Locale.ROOT));
        if (operation.node().isMissingNode()) {
            expectProblem(reply, 405, "an undocumented method", out);
            return out;
        }

        Located responses = operation.at("responses");
        String code = Integer.toString(reply.status());
        Located response = responses.at(code);
        if (response.node().isMissingNode()) response = responses.at(code.charAt(0) + "XX");
        if (response.node().isMissingNode()) response = responses.at("default");
        if (response.node().isMissingNode()) {
            out.add("status " + code + " is not documented for " + op + " (documented: " + names(responses.node()) + ")");
            return out;
        }
        response = resolve(response);
        checkHeaders(response, reply, out);
        checkBody(response, reply, out);
        if (reply.status() / 100 == 2 && requestBody != null && !requestBody.isEmpty()) {
            checkRequest(operation, requestBody, out);
        }
        return out;
    }

    private void checkHeaders(Located response, HttpJson.Reply reply, List<String> out) {
        Located headers = response.at("headers");
        for (String name : names(headers.node())) {
            if (name.equalsIgnoreCase("Content-Type")) continue; // described by content, not headers (OAS 3.1 §4.8.17.1)
            Located header = resolve(headers.at(name));
            String value = reply.header(name);
            if (value == null) {
                if (header.node().path("required").asBoolean(false)) out.add("required header " + name + " is missing");
                continue;
            }
            Located schema = header.at("schema");
            if (!schema.node().isMissingNode()) {
                for (Error e : schema(schema).validate(StringNode.valueOf(value))) {
                    out.add("header " + name + ": " + value + " → " + e.getMessage());
                }
            }
        }
    }

    private void checkBody(Located response, HttpJson.Reply reply, List<String> out) {
        Located content = response.at("content");
        boolean empty = reply.body() == null || reply.body().isEmpty();
        if (content.node().isMissingNode() || content.node().isEmpty()) {
            if (!empty) out.add("the response has a body, but the document declares none");
            return;
        }
        String contentType = Optional.ofNullable(reply.header("Content-Type")).orElse("");
        String mediaType = contentType.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
        Located media = content.at(mediaType);
        if (media.node().isMissingNode()) {
            out.add("content type '" + contentType + "' is not one of " + names(content.node()));
            return;
        }
        if (empty) {
            out.add("the response has no body, but the document declares " + mediaType);
            return;
        }
        Located schema = media.at("schema");
        if (schema.node().isMissingNode()) return;
        if (mediaType.equals("application/json") || mediaType.endsWith("+json")) {
            validateJson(schema, reply.body(), "response body", out);
        }
    }

    private void checkRequest(Located operation, String body, List<String> out) {
        Located media = resolve(operation.at("requestBody")).at("content").at("application/json");
        if (media.node().isMissingNode()) return;
        validateJson(media.at("schema"), body, "accepted request body (the server took what the document forbids)", out);
    }

    private void validateJson(Located schema, String body, String what, List<String> out) {
        JsonNode node;
        try {
            node = JSON.readTree(body);
        } catch (JacksonException e) {
            out.add(what + " is not JSON");
            return;
        }
        for (Error e : schema(schema).validate(node)) out.add(what + ": " + e.getInstanceLocation() + " " + e.getMessage());
    }

    private void expectProblem(HttpJson.Reply reply, int status, String what, List<String> out) {
        if (reply.status() != status) {
            out.add(what + " must be answered with " + status + ", not " + reply.status());
            return;
        }
        String type = Optional.ofNullable(reply.header("Content-Type")).orElse("");
        if (!type.startsWith("application/problem+json")) {
            out.add(what + " must be answered with application/problem+json, not '" + type + "'");
            return;
        }
        validateJson(new Located(document, "").at("components").at("schemas").at("Problem"), reply.body(), "problem", out);
    }

    private Schema schema(Located schema) {
        return schemas.computeIfAbsent(schema.pointer(), p -> registry.getSchema(SchemaLocation.of(BASE + "#" + p)));
    }

    /** Follows local {@code $ref}s (responses, headers, request bodies are referenced from components). */
    private Located resolve(Located node) {
        Located current = node;
        for (int i = 0; i < 10 && current.node().has("$ref"); i++) {
            String ref = current.node().get("$ref").asString();
            if (!ref.startsWith("#/")) throw new IllegalStateException("only local $refs are supported: " + ref);
            Located target = new Located(document, "");
            for (String part : ref.substring(2).split("/")) target = target.at(part.replace("~1", "/").replace("~0", "~"));
            current = target;
        }
        return current;
    }

    private static List<String> names(JsonNode object) {
        List<String> names = new ArrayList<>();
        if (object != null && object.isObject()) object.propertyNames().forEach(names::add);
        return names;
    }

    /** The document's path for a concrete one: itself if documented, else the templated path it matches. */
    private String templated(String path) {
        JsonNode paths = document.path("paths");
        if (paths.has(path)) return path;
        String[] actual = path.split("/", -1);
        for (String candidate : names(paths)) {
            String[] template = candidate.split("/", -1);
            if (!candidate.contains("{") || template.length != actual.length) continue;
            boolean match = true;
            for (int i = 0; i < template.length && match; i++) {
                match = template[i].startsWith("{") ? !actual[i].isEmpty() : template[i].equals(actual[i]);
            }
            if (match) return candidate;
        }
        return path;
    }

    /** Every example in the document (request bodies and responses) checked against its schema. */
    List<String> exampleViolations() {
        List<String> out = new ArrayList<>();
        Located root = new Located(document, "");
        List<Located> mediaHolders = new ArrayList<>();
        Located paths = root.at("paths");
        for (String path : names(paths.node())) {
            for (String method : names(paths.at(path).node())) {
                if (!METHODS.contains(method)) continue;
                Located op = paths.at(path).at(method);
                mediaHolders.add(resolve(op.at("requestBody")));
                for (String status : names(op.at("responses").node())) mediaHolders.add(resolve(op.at("responses").at(status)));
            }
        }
        for (Located holder : mediaHolders) {
            Located content = holder.at("content");
            for (String type : names(content.node())) {
                Located media = content.at(type);
                if (media.node().has("example")) {
                    validateJson(media.at("schema"), media.node().get("example").toString(), "example at " + media.pointer(), out);
                }
                for (String name : names(media.at("examples").node())) {
                    Located example = resolve(media.at("examples").at(name));
                    validateJson(media.at("schema"), example.node().get("value").toString(), "example " + example.pointer(), out);
                }
            }
        }
        return out;
    }

    /** Operations and statuses the document declares, and which of them the run exercised. */
    Map<String, Map<String, Boolean>> coverage() {
        Map<String, Map<String, Boolean>> out = new TreeMap<>();
        Located paths = new Located(document, "").at("paths");
        for (String path : names(paths.node())) {
            for (String method : names(paths.at(path).node())) {
                if (!METHODS.contains(method)) continue;
                String op = method.toUpperCase(Locale.ROOT) + " " + path;
                Map<String, Boolean> statuses = new TreeMap<>();
                for (String status : names(paths.at(path).at(method).at("responses").node())) {
                    statuses.put(status, seen.getOrDefault(op, Set.of()).contains(status));
                }
                out.put(op, statuses);
            }
        }
        return out;
    }

    /**
     * Surefire runs the local tests in several JVMs, each with its own {@code seen}: every JVM adds what it saw
     * to {@code contract-coverage/seen-<run>-<pid>.txt} and, under a lock, writes the report from all of this
     * run's files, so the last JVM to end writes what the whole run exercised; files of other runs go. Without
     * a run id (a test started from an IDE) the report is this JVM's alone.
     */
    private void writeCoverage() {
        String run = System.getProperty("test.run", "").replaceAll("[^0-9A-Za-z]", "");
        if (run.isEmpty()) {
            writeReport();
            return;
        }
        Path dir = TestStack.PROJECT_ROOT.resolve("local/target/contract-coverage");
        try {
            Files.createDirectories(dir);
            try (java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(dir.resolve("lock"),
                    java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE)) {
                channel.lock(); // held until the channel closes
                List<String> mine = new ArrayList<>();
                seen.forEach((op, statuses) -> statuses.forEach(status -> mine.add(op + "\t" + status)));
                Files.write(dir.resolve("seen-" + run + "-" + ProcessHandle.current().pid() + ".txt"), mine);
                try (java.util.stream.Stream<Path> files = Files.list(dir)) {
                    for (Path f : files.filter(f -> f.getFileName().toString().startsWith("seen-")).toList()) {
                        if (!f.getFileName().toString().startsWith("seen-" + run + "-")) {
                            Files.deleteIfExists(f);
                            continue;
                        }
                        for (String line : Files.readAllLines(f)) {
                            int tab = line.indexOf('\t');
                            if (tab > 0) seen.computeIfAbsent(line.substring(0, tab), k -> ConcurrentHashMap.newKeySet()).add(line.substring(tab + 1));
                        }
                    }
                }
                writeReport();
            }
        } catch (IOException | RuntimeException ignored) {
            // a report, not a result
        }
    }

    private void writeReport() {
        StringBuilder sb = new StringBuilder("# openapi.yaml: statuses the tests of this run received (x) and did not ( )\n");
        Set<String> missed = new TreeSet<>();
        coverage().forEach((op, statuses) -> {
            sb.append(op).append('\n');
            statuses.forEach((status, hit) -> {
                sb.append("  [").append(hit ? 'x' : ' ').append("] ").append(status).append('\n');
                if (!hit) missed.add(op + " " + status);
            });
        });
        sb.append("\n").append(missed.size()).append(" documented responses not exercised\n");
        try {
            Path file = TestStack.PROJECT_ROOT.resolve("local/target/contract-coverage.txt");
            Files.createDirectories(file.getParent());
            Files.writeString(file, sb.toString());
        } catch (IOException ignored) {
            // a report, not a result
        }
    }

    private static String abbreviate(String s) {
        return s == null ? "" : s.length() > 600 ? s.substring(0, 600) + "…" : s;
    }
}
