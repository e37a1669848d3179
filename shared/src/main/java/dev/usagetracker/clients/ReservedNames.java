package dev.usagetracker.clients;

import java.text.Normalizer;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code admin} prefix is reserved: no client id starts with it ({@code admin}, {@code admin-x},
 * {@code admin_x}, {@code administrator}) or with a lookalike of it ({@code adm1n}, {@code 4dmin},
 * {@code admln}), and no display name reads as "admin" (any case, spacing or punctuation, fullwidth or
 * Cyrillic/Greek letters that look Latin: {@code Аdmin}, {@code ＡＤＭＩＮ}, {@code A.d.m.i.n}). The
 * comparison uses a skeleton in the spirit of Unicode TR 39: NFKC, lower case, confusable letters and
 * digits folded to the Latin letter they imitate, everything else dropped. Names that merely start with
 * the word ("Admin Tools") stay allowed; the id generated from such a name does not start with it.
 */
public final class ReservedNames {
    private static final String RESERVED = "admin";
    /** Letters and digits that imitate a letter of "admin" (TR 39 confusables, the relevant subset). */
    private static final Map<Integer, Character> CONFUSABLE = Map.ofEntries(
            Map.entry((int) '4', 'a'), Map.entry((int) '@', 'a'), Map.entry(0x0430, 'a'), Map.entry(0x03B1, 'a'),
            Map.entry(0x0251, 'a'), Map.entry(0x0501, 'd'), Map.entry(0x217E, 'd'), Map.entry(0x043C, 'm'),
            Map.entry(0x03BC, 'm'), Map.entry((int) '1', 'i'), Map.entry((int) 'l', 'i'), Map.entry((int) '|', 'i'),
            Map.entry((int) '!', 'i'), Map.entry(0x0456, 'i'), Map.entry(0x0131, 'i'), Map.entry(0x03B9, 'i'),
            Map.entry(0x0069, 'i'), Map.entry(0x043F, 'n'), Map.entry(0x0578, 'n'), Map.entry(0x03B7, 'n'));

    private ReservedNames() {}

    /** Whether a client id starts with the reserved prefix or a lookalike of it. */
    public static boolean isReservedClientId(String clientId) {
        return clientId != null && skeleton(clientId, false).startsWith(RESERVED);
    }

    /** Whether a display name reads as "admin". */
    public static boolean isReservedName(String name) {
        return name != null && skeleton(name, true).equals(RESERVED);
    }

    /** "rn" folded to "m" as well, then confusables to Latin; other characters dropped (or kept, for ids, up to the first separator). */
    static String skeleton(String s, boolean dropOthers) {
        String folded = Normalizer.normalize(s, Normalizer.Form.NFKC).toLowerCase(Locale.ROOT).replace("rn", "m");
        StringBuilder sb = new StringBuilder();
        folded.codePoints().forEach(cp -> {
            Character mapped = CONFUSABLE.get(cp);
            if (mapped != null) sb.append(mapped);
            else if (cp >= 'a' && cp <= 'z') sb.append((char) cp);
            else if (!dropOthers) sb.append('\u0000'); // an id's separator ends the word
        });
        return sb.toString();
    }
}
