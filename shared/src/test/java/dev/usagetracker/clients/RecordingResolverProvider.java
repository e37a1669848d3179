package dev.usagetracker.clients;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.net.spi.InetAddressResolver;
import java.net.spi.InetAddressResolverProvider;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.Stream;

/**
 * Test-only name resolver, installed for the test JVM through META-INF/services: it delegates to the
 * JDK's resolver and records every host name looked up, so a test can prove that code made no DNS query.
 */
public final class RecordingResolverProvider extends InetAddressResolverProvider {
    static final List<String> LOOKUPS = Collections.synchronizedList(new ArrayList<>());
    static volatile boolean installed;

    @Override
    public InetAddressResolver get(Configuration configuration) {
        installed = true;
        InetAddressResolver builtin = configuration.builtinResolver();
        return new InetAddressResolver() {
            @Override
            public Stream<InetAddress> lookupByName(String host, LookupPolicy policy) throws UnknownHostException {
                LOOKUPS.add(host);
                return builtin.lookupByName(host, policy);
            }

            @Override
            public String lookupByAddress(byte[] addr) throws UnknownHostException {
                return builtin.lookupByAddress(addr);
            }
        };
    }

    @Override
    public String name() {
        return "recording";
    }
}
