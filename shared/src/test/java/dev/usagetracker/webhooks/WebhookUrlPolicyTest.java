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
}
