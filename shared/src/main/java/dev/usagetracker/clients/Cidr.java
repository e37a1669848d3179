package dev.usagetracker.clients;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;
import java.util.regex.Pattern;

/** IPv4/IPv6 literals and CIDR blocks, parsed without ever touching DNS. */
public final class Cidr {
    private static final Pattern IPV4 = Pattern.compile(
            "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");
    private static final Pattern IPV6_CHARS = Pattern.compile("[0-9A-Fa-f:.]{2,45}");

    private Cidr() {}

    /** The address if {@code text} is an IPv4 or IPv6 literal (no zone ids, no host names). */
    public static Optional<InetAddress> parseAddress(String text) {
        if (text == null) return Optional.empty();
        try {
            if (IPV4.matcher(text).matches()) {
                return Optional.of(InetAddress.getByName(text));
            }
            // The JDK parses a string as an IPv6 literal (never resolving it) only if it contains ':' and
            // starts with a hex digit or ':'; anything else would go to the resolver.
            if (text.indexOf(':') >= 0 && IPV6_CHARS.matcher(text).matches()
                    && (text.charAt(0) == ':' || Character.digit(text.charAt(0), 16) >= 0)) {
                return Optional.of(InetAddress.getByName(text));
            }
        } catch (UnknownHostException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    /** Canonical form of a CIDR block ({@code 10.0.0.0/8}); a bare address gets /32 or /128. */
    public static Optional<String> normalize(String text) {
        if (text == null) return Optional.empty();
        String[] parts = text.trim().split("/", -1);
        if (parts.length > 2) return Optional.empty();
        Optional<InetAddress> address = parseAddress(parts[0]);
        if (address.isEmpty()) return Optional.empty();
        int max = address.get().getAddress().length * 8;
        int prefix = max;
        if (parts.length == 2) {
            if (!parts[1].matches("\\d{1,3}")) return Optional.empty();
            prefix = Integer.parseInt(parts[1]);
            if (prefix > max) return Optional.empty();
        }
        byte[] bytes = address.get().getAddress();
        for (int bit = prefix; bit < max; bit++) bytes[bit / 8] &= (byte) ~(0x80 >>> (bit % 8)); // network address
        try {
            return Optional.of(InetAddress.getByAddress(bytes).getHostAddress() + "/" + prefix);
        } catch (UnknownHostException e) {
            return Optional.empty();
        }
    }

    /** Whether {@code address} lies in the normalised block {@code cidr} (as stored by {@link #normalize}). */
    public static boolean contains(String cidr, InetAddress address) {
        String[] parts = cidr.split("/", 2);
        Optional<InetAddress> network = parseAddress(parts[0]);
        if (network.isEmpty() || parts.length != 2) return false;
        byte[] net = network.get().getAddress();
        byte[] ip = address.getAddress();
        if (net.length != ip.length) return false;
        int prefix = Integer.parseInt(parts[1]);
        for (int bit = 0; bit < prefix; bit++) {
            int mask = 0x80 >>> (bit % 8);
            if ((net[bit / 8] & mask) != (ip[bit / 8] & mask)) return false;
        }
        return true;
    }

    /** Whether {@code ip} (a literal) lies in any of the blocks; false for an unparsable address. */
    public static boolean anyContains(java.util.Collection<String> cidrs, String ip) {
        Optional<InetAddress> address = parseAddress(ip);
        return address.isPresent() && cidrs.stream().anyMatch(c -> contains(c, address.get()));
    }
}
