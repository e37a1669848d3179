package dev.usagetracker.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * One strict JSON mapper for the whole service: unknown fields, duplicate keys, trailing tokens and
 * coercions (a number where a string is expected) are errors, reported with the offending field.
 */
public final class Json {
    public static final ObjectMapper MAPPER = strict(JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .disable(com.fasterxml.jackson.databind.MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
            .addModule(new com.fasterxml.jackson.datatype.jsr310.JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .propertyNamingStrategy(com.fasterxml.jackson.databind.PropertyNamingStrategies.SNAKE_CASE)
            .build());

    /** A number or boolean where a string is expected is an error, not "42" (MapperFeature does not cover text). */
    private static ObjectMapper strict(ObjectMapper mapper) {
        mapper.coercionConfigFor(LogicalType.Textual)
                .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
        return mapper;
    }

    private Json() {}

    /** Parses a request body; every failure is a 400 that names the field, never a 500. */
    public static JsonNode readTree(byte[] body) {
        if (body.length == 0) {
            throw ApiException.badRequest("The request body is empty; a JSON object is expected.");
        }
        try {
            JsonNode node = MAPPER.readTree(body);
            if (node == null || !node.isObject()) {
                throw ApiException.badRequest("The request body must be a JSON object.");
            }
            return node;
        } catch (JsonProcessingException e) {
            throw ApiException.badRequest("The request body is not valid JSON: " + describe(e));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Binds a parsed tree to a request record, turning binding errors into field errors. */
    public static <T> T bind(JsonNode node, Class<T> type) {
        try {
            return MAPPER.treeToValue(node, type);
        } catch (UnrecognizedPropertyException e) {
            throw ApiException.validation(List.of(new ApiException.FieldError(path(e), "unknown field")));
        } catch (MismatchedInputException e) {
            throw ApiException.validation(List.of(new ApiException.FieldError(path(e), "has the wrong type")));
        } catch (JsonProcessingException e) {
            throw ApiException.badRequest("The request body could not be read: " + describe(e));
        }
    }

    public static byte[] write(Object value) {
        try {
            return MAPPER.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise " + value.getClass().getSimpleName(), e);
        }
    }

    public static <T> T read(byte[] json, Class<T> type) {
        try {
            return MAPPER.readValue(json, type);
        } catch (IOException e) {
            throw new IllegalArgumentException("invalid " + type.getSimpleName() + " JSON", e);
        }
    }

    static String path(JsonMappingException e) {
        StringBuilder sb = new StringBuilder();
        for (JsonMappingException.Reference ref : e.getPath()) {
            if (ref.getFieldName() != null) {
                if (!sb.isEmpty()) sb.append('.');
                sb.append(ref.getFieldName());
            } else if (ref.getIndex() >= 0) {
                sb.append('[').append(ref.getIndex()).append(']');
            }
        }
        return sb.isEmpty() ? "$" : sb.toString();
    }

    /**
     * Where the body broke, not what it said: the parser's message can quote the input, and the input
     * may hold an API key.
     */
    private static String describe(JsonProcessingException e) {
        var loc = e.getLocation();
        String kind = e.getClass().getSimpleName().contains("Duplicate") || String.valueOf(e.getOriginalMessage())
                .startsWith("Duplicate field") ? "duplicate key" : "malformed JSON";
        return loc == null ? kind : kind + " at line " + loc.getLineNr() + ", column " + loc.getColumnNr();
    }
}
