package dev.usagetracker.clients;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

class CidrTest {

    @BeforeAll
    static void dnsLookupsAreRecorded() throws Exception {
        InetAddress.getByName("localhost"); // makes the JDK load its resolver, which must be ours
        assertThat(RecordingResolverProvider.installed)
                .as("RecordingResolverProvider is registered in META-INF/services")
                .isTrue();
    }

    @ParameterizedTest
    @CsvSource({
            "10.0.0.0/8,           10.0.0.0/8",
            "' 192.168.1.0/24 ',   192.168.1.0/24",
            "10.0.0.0/08,          10.0.0.0/8",
            "0.0.0.0/0,            0.0.0.0/0",
            "203.0.113.7/32,       203.0.113.7/32",
            "10.1.2.3/8,           10.0.0.0/8",
            "192.168.1.77/25,      192.168.1.0/25"})
    void normalizesIpv4Blocks(String input, String expected) {
        assertThat(Cidr.normalize(input)).contains(expected);
    }

    @ParameterizedTest
    @CsvSource({
            "2001:DB8::/32,          2001:db8:0:0:0:0:0:0/32",
            "2001:db8:0:0:0:0:0:0/32, 2001:db8:0:0:0:0:0:0/32",
            "::/0,                   0:0:0:0:0:0:0:0/0",
            "2001:db8::1/128,        2001:db8:0:0:0:0:0:1/128",
            "2001:db8:abcd::1/32,    2001:db8:0:0:0:0:0:0/32"})
    void normalizesIpv6Blocks(String input, String expected) {
        assertThat(Cidr.normalize(input)).contains(expected);
    }

    @Test
    void givesABareAddressAFullLengthPrefix() {
        assertThat(Cidr.normalize("203.0.113.7")).contains("203.0.113.7/32");
        assertThat(Cidr.normalize("2001:db8::1")).contains("2001:db8:0:0:0:0:0:1/128");
    }

    @ParameterizedTest
    @ValueSource(strings = {"10.0.0.0/33", "2001:db8::/129", "10.0.0.0/-1", "10.0.0.0/abc", "10.0.0.0/",
            "10.0.0.0/1000", "10.0.0.0/8/8", "/8", "10.0.0.0 /8", "256.0.0.0/8", "10.0.0/8", "::g/64",
            "fe80::1%eth0/64"})
    void rejectsMalformedBlocks(String input) {
        assertThat(Cidr.normalize(input)).isEmpty();
    }

    @ParameterizedTest
    @NullAndEmptySource
    void rejectsNothing(String input) {
        assertThat(Cidr.normalize(input)).isEmpty();
        assertThat(Cidr.parseAddress(input)).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"localhost", "localhost/32", "example.com", "example.com/24", "cafe", "dead.beef",
            "10.0.0.1.nip.io", "1.2.3.4:80", "[::1]", "::1%lo"})
    void rejectsHostNamesWithoutLookingThemUp(String input) {
        RecordingResolverProvider.LOOKUPS.clear();

        assertThat(Cidr.normalize(input)).isEmpty();
        assertThat(Cidr.parseAddress(input)).isEmpty();
        assertThat(RecordingResolverProvider.LOOKUPS).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {".:", "..:", ".:.", ".a:b"})
    void rejectsDotLedColonStringsWithoutLookingThemUp(String input) {
        RecordingResolverProvider.LOOKUPS.clear();

        assertThat(Cidr.parseAddress(input)).isEmpty();
        assertThat(RecordingResolverProvider.LOOKUPS).isEmpty();
    }

    @Test
    void parsesLiteralsWithoutLookingThemUp() {
        RecordingResolverProvider.LOOKUPS.clear();

        assertThat(Cidr.parseAddress("198.51.100.4")).map(InetAddress::getHostAddress).contains("198.51.100.4");
        assertThat(Cidr.parseAddress("::1")).map(InetAddress::getHostAddress).contains("0:0:0:0:0:0:0:1");
        assertThat(RecordingResolverProvider.LOOKUPS).isEmpty();
    }
}
