package dev.usagetracker.clients;

import java.net.IDN;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The email grammar the service accepts: an RFC 5321 mailbox without the rarely used and often abused
 * forms. {@code local-part@domain} where
 * <ul>
 *   <li>the local part is a dot-atom of ASCII {@code atext} (RFC 5322 §3.2.3: letters, digits and
 *       {@code !#$%&'*+/=?^_`{|}~-}), 1–64 characters, no leading, trailing or doubled dot. Quoted local
 *       parts ({@code "a b"@x}), comments and internationalised (SMTPUTF8) local parts are refused;</li>
 *   <li>the domain is a host name of two or more labels: each label 1–63 letters, digits or hyphens, not
 *       starting or ending with a hyphen, the last one not all digits; at most 253 characters. Address
 *       literals ({@code a@[127.0.0.1]}), empty labels ({@code a@b..example}) and a trailing dot are
 *       refused. An internationalised domain (IDN, {@code bücher.example}) is accepted and stored in its
 *       ASCII form (IDNA 2003 ToASCII with the STD3 rules, {@code xn--bcher-kva.example}), lower-cased;</li>
 *   <li>the whole address is at most 254 characters; nothing around it ({@code <a@b.example>}, a display
 *       name, spaces).</li>
 * </ul>
 */
public final class EmailAddress {
    private static final Pattern LOCAL = Pattern.compile(
            "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*");
    private static final Pattern LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    private static final Pattern ALL_DIGITS = Pattern.compile("[0-9]+");

    private EmailAddress() {}

    /** The address in its normal form (ASCII domain, lower-cased), or empty if it is not one. */
    public static Optional<String> normalize(String input) {
        // Before IDNA, whose nameprep would silently delete zero-width and other format characters.
        if (input == null || input.length() > 254 || dev.usagetracker.http.UnicodeText.violation(input).isPresent()) {
            return Optional.empty();
        }
        int at = input.lastIndexOf('@');
        if (at <= 0 || at != input.indexOf('@') || at == input.length() - 1) return Optional.empty();
        String local = input.substring(0, at);
        String domain = input.substring(at + 1);
        if (local.length() > 64 || !LOCAL.matcher(local).matches()) return Optional.empty();
        String ascii;
        try {
            ascii = IDN.toASCII(domain, IDN.USE_STD3_ASCII_RULES).toLowerCase(Locale.ROOT);
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
        // ToASCII maps ideographic full stops to '.', so labels are checked after it, on ASCII only.
        if (ascii.isEmpty() || ascii.length() > 253 || ascii.endsWith(".")) return Optional.empty();
        String[] labels = ascii.split("\\.", -1);
        if (labels.length < 2) return Optional.empty();
        for (String label : labels) {
            if (!LABEL.matcher(label).matches()) return Optional.empty();
        }
        if (ALL_DIGITS.matcher(labels[labels.length - 1]).matches()) return Optional.empty();
        String address = local + "@" + ascii;
        return address.length() > 254 ? Optional.empty() : Optional.of(address);
    }
}
