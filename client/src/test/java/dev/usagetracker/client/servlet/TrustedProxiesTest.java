package dev.usagetracker.client.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class TrustedProxiesTest {
    final TrustedProxies proxies = TrustedProxies.of("10.0.0.0/8", "192.0.2.10", "2001:db8:1::/48");

    @Test
    void anUntrustedPeerIsTheClientWhateverItClaims() {
        assertThat(proxies.clientAddress("198.51.100.7", List.of("203.0.113.1"))).isEqualTo("198.51.100.7");
        assertThat(TrustedProxies.none().clientAddress("10.1.1.1", List.of("203.0.113.1"))).isEqualTo("10.1.1.1");
    }

    @Test
    void theRightmostUntrustedHopIsTheClient() {
        // the client wrote "1.1.1.1" itself; 203.0.113.9 connected to our first proxy
        assertThat(proxies.clientAddress("10.0.0.2", List.of("1.1.1.1, 203.0.113.9, 10.2.3.4"))).isEqualTo("203.0.113.9");
        assertThat(proxies.clientAddress("10.0.0.2", List.of("1.1.1.1", "203.0.113.9,192.0.2.10"))).isEqualTo("203.0.113.9");
        assertThat(proxies.clientAddress("10.0.0.2", List.of("[2001:db8:2::5]:443, 2001:db8:1::9"))).isEqualTo("2001:db8:2::5");
        assertThat(proxies.clientAddress("10.0.0.2", List.of("198.51.100.1:5060"))).isEqualTo("198.51.100.1");
    }

    @Test
    void onlyTrustedHopsMeansTheLeftmostAndGarbageStopsTheWalk() {
        assertThat(proxies.clientAddress("10.0.0.2", List.of("10.9.9.9, 10.0.0.1"))).isEqualTo("10.9.9.9");
        assertThat(proxies.clientAddress("10.0.0.2", List.of("203.0.113.9, evil.example, 10.0.0.1"))).isEqualTo("10.0.0.1");
        assertThat(proxies.clientAddress("10.0.0.2", List.of())).isEqualTo("10.0.0.2");
    }

    @Test
    void cidrsMatchByPrefixAndIpv4MappedPeersMatchIpv4Rules() {
        assertThat(proxies.trusts("10.255.255.255")).isTrue();
        assertThat(proxies.trusts("11.0.0.0")).isFalse();
        assertThat(proxies.trusts("192.0.2.10")).isTrue();
        assertThat(proxies.trusts("192.0.2.11")).isFalse();
        assertThat(proxies.trusts("::ffff:10.0.0.1")).isTrue();
        assertThat(proxies.trusts("2001:db8:1:ffff::1")).isTrue();
        assertThat(proxies.trusts("2001:db8:2::1")).isFalse();
        assertThat(TrustedProxies.of("172.16.0.0/12").trusts("172.31.0.1")).isTrue();
        assertThat(TrustedProxies.of("172.16.0.0/12").trusts("172.32.0.1")).isFalse();
        assertThat(proxies.trusts("localhost")).as("names are never resolved").isFalse();
        assertThatThrownBy(() -> TrustedProxies.of("10.0.0.0/33")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> TrustedProxies.of("proxy.internal")).isInstanceOf(IllegalArgumentException.class);
        assertThat(TrustedProxies.parse("10.0.0.0/8, ::1").trusts("::1")).isTrue();
    }
}
