package dev.usagetracker.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.usagetracker.http.ApiException.FieldError;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Text is validated as Unicode, not as bytes. The rules every string of every request body obeys (the
 * strings a store, a queue or a screen would choke on or render deceptively):
 * <ul>
 *   <li>no unpaired UTF-16 surrogate (JSON can spell one, {@code "\ud800"}; no store can encode it);</li>
 *   <li>no control character (Unicode category Cc: NUL, C0, DEL, C1);</li>
 *   <li>no format character (Cf: bidi overrides such as U+202E, zero-width space/joiners, U+FEFF, soft
 *       hyphen, tag characters), which render invisibly or reverse the text around them;</li>
 *   <li>no line or paragraph separator (Zl, Zp), no noncharacter (U+FDD0–U+FDEF, U+xxFFFE/F) and no
 *       U+FFFD: a replacement character means the text was not valid UTF-8 before someone decoded it.</li>
 * </ul>
 * The body's bytes must be valid UTF-8 (no overlong forms, no encoded surrogates) before JSON parsing.
 */
public final class UnicodeText {
    private UnicodeText() {}

    /** Why {@code s} breaks the rules above, or empty if it does not. */
    public static Optional<String> violation(String s) {
        for (int i = 0; i < s.length(); ) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) {
                    return Optional.of("must not contain an unpaired UTF-16 surrogate");
                }
            } else if (Character.isLowSurrogate(c)) {
                return Optional.of("must not contain an unpaired UTF-16 surrogate");
            }
            int cp = s.codePointAt(i);
            switch (Character.getType(cp)) {
                case Character.CONTROL -> {
                    return Optional.of("must not contain control characters");
                }
                case Character.FORMAT -> {
                    return Optional.of("must not contain invisible format characters (bidi controls, zero-width characters)");
                }
                case Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR -> {
                    return Optional.of("must not contain line or paragraph separators");
                }
                default -> {
                    if (isNoncharacter(cp) || cp == 0xFFFD) {
                        return Optional.of("must not contain noncharacters or U+FFFD");
                    }
                }
            }
            i += Character.charCount(cp);
        }
        return Optional.empty();
    }

    static boolean isNoncharacter(int cp) {
        return (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE;
    }

    /** NFC, the one composed form: "é" typed as e + U+0301 and as U+00E9 is one name. */
    public static String nfc(String s) {
        return Normalizer.normalize(s, Normalizer.Form.NFC);
    }

    /** The longest run of combining marks (Mn, Me) after one base character ("Zalgo" text piles them up). */
    public static int longestCombiningRun(String s) {
        int longest = 0, run = 0;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            int type = Character.getType(cp);
            if (type == Character.NON_SPACING_MARK || type == Character.ENCLOSING_MARK) {
                run++;
                longest = Math.max(longest, run);
            } else {
                run = 0;
            }
            i += Character.charCount(cp);
        }
        return longest;
    }

    /** Whether the first code point is a combining mark (it would attach to whatever precedes the text). */
    public static boolean startsWithCombiningMark(String s) {
        if (s.isEmpty()) return false;
        int type = Character.getType(s.codePointAt(0));
        return type == Character.NON_SPACING_MARK || type == Character.ENCLOSING_MARK || type == Character.COMBINING_SPACING_MARK;
    }

    /** Strict UTF-8: malformed sequences, overlong forms and encoded surrogates are a 400, never replaced. */
    public static void requireUtf8(byte[] body) {
        try {
            StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(body));
        } catch (CharacterCodingException e) {
            throw ApiException.badRequest("The request body is not valid UTF-8.");
        }
    }

    /** Whether the bytes are valid UTF-8. */
    public static boolean isUtf8(byte[] bytes) {
        try {
            requireUtf8(bytes);
            return true;
        } catch (ApiException e) {
            return false;
        }
    }

    /** Checks every string value and field name of a parsed body against the rules above (400 with errors[]). */
    public static void requireValidStrings(JsonNode body) {
        List<FieldError> errors = new ArrayList<>();
        walk(body, "", errors);
        if (!errors.isEmpty()) throw ApiException.validation(errors);
    }

    private static void walk(JsonNode node, String path, List<FieldError> errors) {
        if (errors.size() >= 20) return; // enough to say what is wrong; a 500-hit batch need not list all
        if (node.isTextual()) {
            violation(node.textValue()).ifPresent(why -> errors.add(new FieldError(path.isEmpty() ? "$" : path, why)));
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) walk(node.get(i), path + "[" + i + "]", errors);
        } else if (node.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                Optional<String> badName = violation(e.getKey());
                if (badName.isPresent()) {
                    // the name itself is not echoed: it cannot be written back safely
                    errors.add(new FieldError(path.isEmpty() ? "$" : path, "has a field name that " + badName.get()));
                    continue;
                }
                walk(e.getValue(), path.isEmpty() ? e.getKey() : path + "." + e.getKey(), errors);
            }
        }
    }
}
