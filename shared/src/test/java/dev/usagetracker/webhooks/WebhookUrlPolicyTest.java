package dev.usagetracker.webhooks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WebhookUrlPolicyTest {
    private static final Map<String, String> DNS = Map.of(
            "hooks.example", "93.184.216.34",
            "rebound.example", "10.0.0.7",
            "v6.example", "2606:4700::6810:85e5");

    private static InetAddress[] resolve(String host) throws UnknownHostException {
        String ip = DNS.getOrDefault(host, host);
        if (!ip.matches("[0-9a-fA-F:.]+")) throw new UnknownHostException(host);
        return new InetAddress[] {InetAddress.getByName(ip)};
    }

    private final WebhookUrlPolicy aws = new WebhookUrlPolicy(false, WebhookUrlPolicyTest::resolve);
    private final WebhookUrlPolicy local = new WebhookUrlPolicy(true, WebhookUrlPolicyTest::resolve);

    @Test
    void aPublicHttpsReceiverIsConnectedToTheAddressThatWasChecked() throws Exception {
        WebhookUrlPolicy.Target t = aws.check("https://hooks.example/usage?x=1");
        assertThat(t.address().getHostAddress()).isEqualTo("93.184.216.34");
        assertThat(t.host()).isEqualTo("hooks.example");
        assertThat(t.port()).isEqualTo(443);
        assertThat(t.requestTarget()).isEqualTo("/usage?x=1");
        assertThat(t.hostHeader()).isEqualTo("hooks.example");
        assertThat(aws.check("https://v6.example:8443/").hostHeader()).isEqualTo("v6.example:8443");
    }

    @Test
    void privateLoopbackLinkLocalCgnatUlaAndMulticastAreRefusedInTheAwsConfiguration() {
        for (String url : new String[] {"https://10.0.0.1/", "https://172.16.5.4/", "https://192.168.0.1/", "https://127.0.0.1/",
                "https://[::1]/", "https://169.254.10.10/", "https://[fe80::1]/", "https://100.64.0.1/", "https://100.127.255.254/",
                "https://[fd12:3456::1]/", "https://224.0.0.251/", "https://0.0.0.0/", "https://[::]/", "https://[::ffff:10.1.2.3]/",
                "https://[64:ff9b::a00:1]/", "https://198.18.0.1/", "https://rebound.example/"}) {
            assertThatThrownBy(() -> aws.check(url)).as(url).isInstanceOf(WebhookUrlPolicy.Refused.class);
        }
    }

    @Test
    void metadataAddressesAreRefusedEvenWherePrivateReceiversAreAllowed() {
        for (String url : new String[] {"http://169.254.169.254/", "https://[fd00:ec2::254]/", "http://[::ffff:169.254.169.254]/"}) {
            assertThatThrownBy(() -> local.check(url)).as(url).isInstanceOf(WebhookUrlPolicy.Refused.class)
                    .hasMessageContaining("metadata");
        }
    }

    @Test
    void onlyTheLocalConfigurationAllowsHttpAndLoopback() throws Exception {
        assertThatThrownBy(() -> aws.check("http://hooks.example/")).hasMessageContaining("https");
        assertThat(local.check("http://127.0.0.1:9000/hook").tls()).isFalse();
        assertThat(WebhookUrlPolicy.isPublic(InetAddress.getByName("100.128.0.1"))).isTrue();
        assertThat(WebhookUrlPolicy.isPublic(InetAddress.getByName("100.63.255.255"))).isTrue();
    }

    @Test
    void malformedUrlsAreRefusedBeforeAnyLookup() {
        for (String url : new String[] {"", "not a url", "https://", "https://user:pw@hooks.example/", "https://hooks.example/#frag",
                "ftp://hooks.example/", "https://nowhere.invalid/"}) {
            assertThatThrownBy(() -> aws.check(url)).as(url).isInstanceOf(WebhookUrlPolicy.Refused.class);
        }
    }

    @Test
    void linkLocalTunnelAndRelayRangesAreRefusedInEveryConfiguration() {
        for (WebhookUrlPolicy policy : new WebhookUrlPolicy[] {aws, local}) {
            for (String url : new String[] {"http://169.254.170.2/v2/credentials", "https://169.254.1.1/", "https://[fe80::1]/",
                    "https://[febf::1]/", "https://[fd00:ec2::23]/", "https://[2002:a00:1::1]/", "https://[2002:5db8:d822::1]/",
                    "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", "https://192.88.99.1/", "https://[::ffff:192.88.99.1]/",
                    "https://[64:ff9b::a9fe:aa02]/", "https://0.0.0.0/", "https://0.1.2.3/", "https://[::]/"}) {
                assertThatThrownBy(() -> policy.check(url)).as(url).isInstanceOf(WebhookUrlPolicy.Refused.class);
            }
        }
    }

    @Test
    void tunnelAndRelayAddressesAreNotPublicButTheirNeighboursAre() throws Exception {
        assertThat(WebhookUrlPolicy.isPublic(InetAddress.getByName("2002::1"))).isFalse();
        assertThat(WebhookUrlPolicy.isPublic(InetAddress.getByName("2001::1"))).isFalse();
        assertThat(WebhookUrlPolicy.isPublic(InetAddress.getByName("192.88.99.255"))).isFalse();
        assertThat(WebhookUrlPolicy.isPublic(InetAddress.getByName("192.88.98.1"))).isTrue();
        assertThat(WebhookUrlPolicy.isPublic(InetAddress.getByName("2001:1::1"))).isTrue();
        assertThat(WebhookUrlPolicy.isPublic(InetAddress.getByName("2003::1"))).isTrue();
        assertThat(WebhookUrlPolicy.isAlwaysRefused(InetAddress.getByName("fd00:ec3::1"))).isFalse();
    }

    @Test
    void reservedPortsAreRefusedOnEveryAddressWithOneAnswerForAll() throws Exception {
        WebhookUrlPolicy dev = new WebhookUrlPolicy(true, java.util.Set.of(9324, 6379), WebhookUrlPolicyTest::resolve);
        java.util.Set<String> messages = new java.util.HashSet<>();
        for (String url : new String[] {"http://127.0.0.1:9324/000000000000/HitsQueue?Action=SendMessage", "http://localhost:6379/",
                "http://10.0.0.7:6379/", "https://hooks.example:9324/", "http://[::1]:9324/"}) {
            var refused = org.assertj.core.api.Assertions.catchThrowableOfType(WebhookUrlPolicy.Refused.class, () -> dev.check(url));
            assertThat(refused).as(url).isNotNull();
            messages.add(refused.getMessage());
        }
        assertThat(messages).as("no refusal tells one port from another").hasSize(1);
        assertThat(dev.check("http://127.0.0.1:9000/hook").port()).isEqualTo(9000);
    }
}
