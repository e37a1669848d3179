package dev.usagetracker.client.servlet;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Which peers may tell us the client's address in {@code X-Forwarded-For}: a list of CIDRs (IPv4 and
 * IPv6). The client is the rightmost address of the chain (the socket peer, then the header's entries
 * from right to left) that is not a trusted proxy: entries left of it could have been written by the
 * client itself. Never resolves a name: only address literals are accepted.
 */
public final class TrustedProxies {
    private final List<Cidr> cidrs;

    private TrustedProxies(List<Cidr> cidrs) {
        this.cidrs = List.copyOf(cidrs);
    }

    /** Trusts nobody: the client address is always the socket peer. */
    public static TrustedProxies none() {
        return new TrustedProxies(List.of());
    }

    /**
     * @param cidrs e.g. {@code "10.0.0.0/8"}, {@code "127.0.0.1/32"}, {@code "::1/128"}; a bare address means that address
     * @throws IllegalArgumentException on anything that is not a CIDR of address literals
     */
    public static TrustedProxies of(String... cidrs) {
        List<Cidr> list = new ArrayList<>();
        for (String c : cidrs) {
            if (c == null || c.isBlank()) continue;
            list.add(Cidr.parse(c.trim()));
        }
        return new TrustedProxies(list);
    }

    /** A comma- or whitespace-separated list, as in a filter's init parameter. */
    public static TrustedProxies parse(String list) {
        return list == null ? none() : of(list.split("[,\\s]+"));
    }

    /** Whether {@code address} (a literal) is a trusted proxy. */
    public boolean trusts(String address) {
        Optional<byte[]> a = literal(address);
        return a.isPresent() && cidrs.stream().anyMatch(c -> c.contains(a.get()));
    }

    /**
     * The client's address.
     *
     * @param remoteAddress  the socket peer
     * @param forwardedFor   every {@code X-Forwarded-For} header value, in order (may be empty)
     */
    public String clientAddress(String remoteAddress, List<String> forwardedFor) {
        if (cidrs.isEmpty() || !trusts(remoteAddress) || forwardedFor.isEmpty()) return remoteAddress;
        List<String> hops = new ArrayList<>();
        for (String value : forwardedFor) {
            if (value != null) Arrays.stream(value.split(",")).map(String::trim).filter(s -> !s.isEmpty()).forEach(hops::add);
        }
        String last = remoteAddress;
        for (int i = hops.size() - 1; i >= 0; i--) {
            String hop = strip(hops.get(i));
            if (literal(hop).isEmpty()) return last; // garbage: the trusted hop to its right is all we know
            if (!trusts(hop)) return hop;
            last = hop;
        }
        return last; // every hop is a trusted proxy: the leftmost one is the client
    }

    /** {@code [2001:db8::1]:443} → {@code 2001:db8::1}; {@code 192.0.2.1:80} → {@code 192.0.2.1}. */
    static String strip(String hop) {
        if (hop.startsWith("[")) {
            int end = hop.indexOf(']');
            return end > 0 ? hop.substring(1, end) : hop;
        }
        int colon = hop.indexOf(':');
        if (colon > 0 && colon == hop.lastIndexOf(':') && hop.indexOf('.') > 0) return hop.substring(0, colon);
        return hop;
    }

    /** The bytes of an IPv4 or IPv6 literal, without any name lookup. */
    static Optional<byte[]> literal(String s) {
        if (s == null || s.isEmpty() || s.length() > 45) return Optional.empty();
        boolean colon = s.indexOf(':') >= 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = c >= '0' && c <= '9' || c == '.' || colon && (c == ':' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F');
            if (!ok) return Optional.empty();
        }
        if (!colon) {
            String[] parts = s.split("\\.", -1);
            if (parts.length != 4) return Optional.empty();
            for (String p : parts) {
                if (p.isEmpty() || p.length() > 3 || Integer.parseInt(p) > 255) return Optional.empty();
            }
        }
        try {
            // only literals reach this point, so no name service is asked
            return Optional.of(InetAddress.getByName(s).getAddress());
        } catch (UnknownHostException | RuntimeException e) {
            return Optional.empty();
        }
    }

    @Override
    public String toString() {
        return "TrustedProxies" + cidrs;
    }

    private record Cidr(byte[] network, int bits, String text) {
        static Cidr parse(String s) {
            int slash = s.indexOf('/');
            String addr = slash < 0 ? s : s.substring(0, slash);
            byte[] bytes = literal(addr).orElseThrow(() -> new IllegalArgumentException("not a CIDR: " + s));
            int bits;
            try {
                bits = slash < 0 ? bytes.length * 8 : Integer.parseInt(s.substring(slash + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not a CIDR: " + s);
            }
            if (bits < 0 || bits > bytes.length * 8) throw new IllegalArgumentException("not a CIDR: " + s);
            return new Cidr(bytes, bits, s);
        }

        boolean contains(byte[] a) {
            byte[] n = network;
            if (a.length != n.length) {
                // an IPv4-mapped IPv6 peer (::ffff:a.b.c.d) against an IPv4 rule
                if (a.length == 16 && n.length == 4 && isMapped(a)) a = Arrays.copyOfRange(a, 12, 16);
                else return false;
            }
            int full = bits / 8;
            for (int i = 0; i < full; i++) if (a[i] != n[i]) return false;
            int rest = bits % 8;
            if (rest == 0) return true;
            int mask = (0xff << (8 - rest)) & 0xff;
            return (a[full] & mask) == (n[full] & mask);
        }

        private static boolean isMapped(byte[] a) {
            for (int i = 0; i < 10; i++) if (a[i] != 0) return false;
            return (a[10] & 0xff) == 0xff && (a[11] & 0xff) == 0xff;
        }

        @Override
        public String toString() {
            return text;
        }
    }
}
