package dev.usagetracker.clients;

import dev.usagetracker.http.UnicodeText;
import java.util.Optional;

/**
 * A client's name as people will see it on the dashboard and in /top: NFC-normalised, 1–200 code
 * points, obeying {@link UnicodeText}'s rules (no controls, no bidi overrides or zero-width characters,
 * no unpaired surrogates), no markup brackets {@code < >}, not starting with a combining mark and at most
 * {@value #MAX_COMBINING_RUN} combining marks on one character.
 */
public final class DisplayName {
    public static final int MAX_CODE_POINTS = 200;
    public static final int MAX_COMBINING_RUN = 4;

    /** The normal form, or the reason the name is refused. */
    public record Result(String name, String violation) {
        public boolean ok() {
            return violation == null;
        }
    }

    private DisplayName() {}

    public static Result check(String raw) {
        if (raw == null || raw.strip().isEmpty()) return new Result(null, "is required");
        Optional<String> why = UnicodeText.violation(raw);
        if (why.isPresent()) return new Result(null, why.get());
        String name = UnicodeText.nfc(raw.strip());
        if (name.codePointCount(0, name.length()) > MAX_CODE_POINTS) {
            return new Result(null, "must be at most " + MAX_CODE_POINTS + " characters");
        }
        if (name.indexOf('<') >= 0 || name.indexOf('>') >= 0) return new Result(null, "must not contain markup (< or >)");
        if (UnicodeText.startsWithCombiningMark(name)) return new Result(null, "must not start with a combining mark");
        if (UnicodeText.longestCombiningRun(name) > MAX_COMBINING_RUN) {
            return new Result(null, "must not stack more than " + MAX_COMBINING_RUN + " combining marks on one character");
        }
        return new Result(name, null);
    }
}
