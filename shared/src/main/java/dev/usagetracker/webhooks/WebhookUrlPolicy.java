package dev.usagetracker.webhooks;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.Locale;

/**
 * The SSRF guard of webhook receivers (docs/alerts.md). A URL is accepted only if it is {@code https},
 * has no user info or fragment, and <em>every</em> address its host resolves to is public: not loopback,
 * private (10/8, 172.16/12, 192.168/16), link-local (169.254/16, fe80::/10), CGNAT (100.64/10), ULA
 * (fc00::/7), multicast, unspecified, or a documentation/benchmark/reserved range. The cloud metadata
 * addresses and the ranges that tunnel or relay to arbitrary IPv4 hosts are refused in every configuration
 * ({@link #isAlwaysRefused}: 169.254/16 with the metadata and ECS credential endpoints, fe80::/10, fd00:ec2::/32,
 * 6to4 2002::/16, Teredo 2001::/32, the 6to4 relay anycast 192.88.99/24, "this network" 0/8 and ::), and so
 * are the local runtime's own ports ({@code reservedPorts}: its gateway, WebSocket and emulator ports), on
 * any address: a relaxed policy must not turn the webhook test into a way to send SQS or Redis commands to
 * the runtime itself (issue 22). The check runs when the
 * webhook is saved and again at every delivery, and the delivery connects to the address that was checked
 * ({@link Target#address()}), so a DNS answer that changes in between (rebinding) cannot redirect it.
 * Only {@code ./scripts/dev} sets {@code allowPrivate}, to let {@code http} and loopback/private receivers in.
 */
public final class WebhookUrlPolicy {
    public static final int MAX_URL_LENGTH = 2048;

    /** Name resolution, replaceable in tests. */
    @FunctionalInterface
    public interface Resolver {
        InetAddress[] resolve(String host) throws UnknownHostException;
    }

    /** A checked receiver: where to connect ({@code address}) and what to name in SNI, the certificate check and Host. */
    public record Target(URI uri, String host, int port, boolean tls, InetAddress address) {
        /** Path and query as sent in the request line. */
        public String requestTarget() {
            String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
            return uri.getRawQuery() == null ? path : path + "?" + uri.getRawQuery();
        }

        /** The Host header: the name, with the port when it is not the scheme's default. */
        public String hostHeader() {
            String h = host.contains(":") ? "[" + host + "]" : host;
            return port == (tls ? 443 : 80) ? h : h + ":" + port;
        }
    }

    /** Why a URL is refused; the message is safe to show to the client that sent it. */
    public static final class Refused extends Exception {
        public Refused(String message) {
            super(message, null, false, false);
        }
    }

    private final boolean allowPrivate;
    private final java.util.Set<Integer> reservedPorts;
    private final Resolver resolver;

    public WebhookUrlPolicy(boolean allowPrivate, java.util.Set<Integer> reservedPorts, Resolver resolver) {
        this.allowPrivate = allowPrivate;
        this.reservedPorts = java.util.Set.copyOf(reservedPorts);
        this.resolver = resolver;
    }

    public WebhookUrlPolicy(boolean allowPrivate, Resolver resolver) {
        this(allowPrivate, java.util.Set.of(), resolver);
    }

    public WebhookUrlPolicy(boolean allowPrivate, java.util.Set<Integer> reservedPorts) {
        this(allowPrivate, reservedPorts, InetAddress::getAllByName);
    }

    public WebhookUrlPolicy(boolean allowPrivate) {
        this(allowPrivate, java.util.Set.of());
    }

    public boolean allowsPrivate() {
        return allowPrivate;
    }

    /** The URL's syntax only (no DNS): for the request's validation errors. */
    public URI parse(String url) throws Refused {
        if (url == null || url.isBlank()) throw new Refused("is required");
        if (url.length() > MAX_URL_LENGTH) throw new Refused("must be at most " + MAX_URL_LENGTH + " characters");
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw new Refused("is not a valid URL");
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("https") && !(allowPrivate && scheme.equals("http"))) throw new Refused("must be an https URL");
        if (uri.getRawUserInfo() != null) throw new Refused("must not contain user information");
        if (uri.getRawFragment() != null) throw new Refused("must not contain a fragment");
        if (uri.getHost() == null || uri.getHost().isEmpty()) throw new Refused("must name a host");
        if (uri.getPort() == 0 || uri.getPort() > 65535) throw new Refused("has an invalid port");
        return uri;
    }

    /** Parses, resolves and checks every address; the target to connect to is the first address. */
    public Target check(String url) throws Refused {
        URI uri = parse(url);
        boolean tls = uri.getScheme().equalsIgnoreCase("https");
        String host = uri.getHost();
        if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
        int port = uri.getPort() > 0 ? uri.getPort() : tls ? 443 : 80;
        // Before DNS, with the same words for every reserved port: a refusal must not tell which ports are open.
        if (reservedPorts.contains(port)) throw new Refused("must not point at this service's own ports");
        InetAddress[] addresses;
        try {
            addresses = resolver.resolve(host);
        } catch (UnknownHostException e) {
            throw new Refused("names a host that does not resolve");
        }
        if (addresses == null || addresses.length == 0) throw new Refused("names a host that does not resolve");
        for (InetAddress a : addresses) {
            if (isMetadata(a)) throw new Refused("must not point at a cloud metadata address");
            if (isAlwaysRefused(a)) {
                throw new Refused("must not resolve to a link-local, tunnel or relay address (" + a.getHostAddress() + ")");
            }
            if (!allowPrivate && !isPublic(a)) {
                throw new Refused("must resolve to public addresses only (" + a.getHostAddress() + " is not public)");
            }
        }
        return new Target(uri, host, port, tls, addresses[0]);
    }

    static boolean isMetadata(InetAddress a) {
        byte[] b = a.getAddress();
        if (a instanceof Inet4Address) return (b[0] & 0xff) == 169 && (b[1] & 0xff) == 254 && (b[2] & 0xff) == 169 && (b[3] & 0xff) == 254;
        if (a instanceof Inet6Address) {
            byte[] ec2 = {(byte) 0xfd, 0, 0x0e, (byte) 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54}; // fd00:ec2::254
            if (java.util.Arrays.equals(b, ec2)) return true;
            Inet4Address mapped = embeddedV4(b);
            return mapped != null && isMetadata(mapped);
        }
        return false;
    }

    /**
     * Refused whatever the configuration: link-local 169.254/16 (the metadata service, the ECS credential
     * endpoint 169.254.170.2) and fe80::/10, AWS's fd00:ec2::/32, "this network" 0/8 and ::, and the
     * transition mechanisms that carry a packet on to an IPv4 address chosen inside the IPv6 one or to a
     * relay: 6to4 2002::/16, Teredo 2001::/32 and the 6to4 relay anycast 192.88.99/24. IPv4-mapped,
     * -compatible and NAT64 forms are judged by the IPv4 address inside.
     */
    public static boolean isAlwaysRefused(InetAddress a) {
        byte[] b = a.getAddress();
        if (a instanceof Inet4Address) {
            int o0 = b[0] & 0xff, o1 = b[1] & 0xff, o2 = b[2] & 0xff;
            return o0 == 0 || (o0 == 169 && o1 == 254) || (o0 == 192 && o1 == 88 && o2 == 99);
        }
        if (a.isAnyLocalAddress()) return true;
        Inet4Address embedded = embeddedV4(b);
        if (embedded != null) return isAlwaysRefused(embedded);
        int w0 = ((b[0] & 0xff) << 8) | (b[1] & 0xff), w1 = ((b[2] & 0xff) << 8) | (b[3] & 0xff);
        return (w0 & 0xffc0) == 0xfe80                 // link-local fe80::/10
                || (w0 == 0xfd00 && w1 == 0x0ec2)       // fd00:ec2::/32
                || w0 == 0x2002                         // 6to4
                || (w0 == 0x2001 && w1 == 0x0000);      // Teredo
    }

    /** Public unicast only. IPv4-mapped/compatible and NAT64 IPv6 addresses are judged by the IPv4 inside. */
    public static boolean isPublic(InetAddress a) {
        if (a.isAnyLocalAddress() || a.isLoopbackAddress() || a.isLinkLocalAddress() || a.isSiteLocalAddress()
                || a.isMulticastAddress()) return false;
        byte[] b = a.getAddress();
        if (a instanceof Inet4Address) {
            int o0 = b[0] & 0xff, o1 = b[1] & 0xff, o2 = b[2] & 0xff;
            return !(o0 == 0 || o0 == 10 || o0 == 127 || o0 >= 224              // this network, private, loopback, multicast, reserved
                    || (o0 == 100 && (o1 & 0xc0) == 64)                          // CGNAT 100.64/10
                    || (o0 == 169 && o1 == 254) || (o0 == 172 && (o1 & 0xf0) == 16) || (o0 == 192 && o1 == 168)
                    || (o0 == 192 && o1 == 0 && (o2 == 0 || o2 == 2))            // IETF protocol assignments, TEST-NET-1
                    || (o0 == 192 && o1 == 88 && o2 == 99)                       // 6to4 relay anycast
                    || (o0 == 198 && (o1 & 0xfe) == 18)                          // benchmarking 198.18/15
                    || (o0 == 198 && o1 == 51 && o2 == 100) || (o0 == 203 && o1 == 0 && o2 == 113)); // TEST-NET-2/3
        }
        Inet4Address embedded = embeddedV4(b);
        if (embedded != null) return isPublic(embedded);
        int first = b[0] & 0xff;
        if ((first & 0xfe) == 0xfc) return false;                                // ULA fc00::/7
        if (first == 0xfe && (b[1] & 0xc0) == 0xc0) return false;                // site-local fec0::/10 (deprecated)
        if (first == 0x20 && b[1] == 0x01 && b[2] == 0x0d && (b[3] & 0xff) == 0xb8) return false; // documentation
        if (isAlwaysRefused(a)) return false;                                    // 6to4, Teredo, fd00:ec2::/32
        return (first & 0xe0) == 0x20;                                           // global unicast 2000::/3 only
    }

    /** The IPv4 address inside ::ffff:a.b.c.d, ::a.b.c.d and 64:ff9b::a.b.c.d, else null. */
    private static Inet4Address embeddedV4(byte[] b) {
        if (b.length != 16) return null;
        boolean zeros = true;
        for (int i = 0; i < 10; i++) zeros &= b[i] == 0;
        boolean mapped = zeros && (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff;
        boolean compatible = zeros && b[10] == 0 && b[11] == 0 && !(b[12] == 0 && b[13] == 0 && b[14] == 0 && (b[15] & 0xfe) == 0);
        boolean nat64 = b[0] == 0 && b[1] == 0x64 && (b[2] & 0xff) == 0xff && (b[3] & 0xff) == 0x9b
                && java.util.stream.IntStream.range(4, 12).allMatch(i -> b[i] == 0);
        if (!mapped && !compatible && !nat64) return null;
        try {
            return (Inet4Address) InetAddress.getByAddress(new byte[] {b[12], b[13], b[14], b[15]});
        } catch (UnknownHostException e) {
            return null;
        }
    }
}
