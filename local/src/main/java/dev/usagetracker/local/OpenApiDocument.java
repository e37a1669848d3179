package dev.usagetracker.local;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * openapi.yaml, the one definition of the HTTP contract, as the JSON the local runtime serves at
 * {@code /openapi.json}. Converted once at start-up, so the YAML in the repository is what clients see.
 */
public final class OpenApiDocument {
    public static final String FILE = "openapi.yaml";

    private final Map<String, Object> document;
    private final byte[] json;

    private OpenApiDocument(Map<String, Object> document, byte[] json) {
        this.document = document;
        this.json = json;
    }

    public static OpenApiDocument load(Path projectRoot) {
        Path file = projectRoot.resolve(FILE);
        try {
            return parse(Files.readString(file));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    @SuppressWarnings("unchecked")
    static OpenApiDocument parse(String yaml) {
        // YAML 1.2 (snakeyaml-engine): no implicit dates or yes/no booleans, so the JSON says what the YAML says.
        Object root = new Load(LoadSettings.builder().setAllowDuplicateKeys(false).build()).loadFromString(yaml);
        if (!(root instanceof Map<?, ?> map) || !String.valueOf(map.get("openapi")).startsWith("3.1")) {
            throw new IllegalArgumentException(FILE + " is not an OpenAPI 3.1 document");
        }
        try {
            byte[] json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(root);
            return new OpenApiDocument((Map<String, Object>) map, json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(FILE + " cannot be written as JSON", e);
        }
    }

    public byte[] json() {
        return json.clone();
    }

    public String title() {
        return String.valueOf(SamTemplate.map(document.get("info")).get("title"));
    }

    public String version() {
        return String.valueOf(SamTemplate.map(document.get("info")).get("version"));
    }

    /** {@code "POST /api/logs"}-style keys of every operation the document describes. */
    public java.util.Set<String> operations() {
        java.util.Set<String> ops = new java.util.TreeSet<>();
        SamTemplate.map(document.get("paths")).forEach((path, item) -> SamTemplate.map(item).keySet().stream()
                .filter(m -> java.util.Set.of("get", "put", "post", "delete", "patch", "head", "options").contains(m))
                .forEach(m -> ops.add(m.toUpperCase(java.util.Locale.ROOT) + " " + path)));
        return ops;
    }
}
