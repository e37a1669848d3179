package dev.usagetracker.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.usagetracker.local.HttpJson.Reply;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The AWS configuration of webhooks ({@code WEBHOOK_ALLOW_PRIVATE=false}, as template.yaml sets it) on
 * the local runtime, where it is the default unless {@code ./scripts/dev} turns it off (the container image
 * runs this same runtime): a receiver must be https and resolve to public addresses only, checked when the
 * webhook is saved (here) and again at every delivery.
 */
@ExtendWith(TestStack.Extension.class)
class WebhookSsrfIT {
    static LocalRuntime runtime;
    static HttpJson api;

    @BeforeAll
    static void start(TestStack stack) throws Exception {
        runtime = LocalRuntime.start(new LocalRuntime.Options(TestStack.PROJECT_ROOT, "127.0.0.1", 0,
                Optional.of(stack.emulators()), Map.of(
                        "Stage", "webhook-ssrf-it",
                        // no WEBHOOK_ALLOW_PRIVATE: the default must be the strict policy (issue 22)
                        "RateLimitRead", "1000/1m",
                        "RateLimitRegister", "off"),
                Optional.of("webhook-ssrf-admin-key-0123456789"), Optional.of(Duration.ofMillis(200)), 30, 2, false, "whssrf-"));
        api = new HttpJson(runtime.baseUrl());
    }

    @AfterAll
    static void stop() {
        if (runtime != null) runtime.close();
    }

    @Test
    void privateMetadataAndPlainHttpReceiversAreRefused() {
        LiveClient c = LiveClient.register(api, "ssrf");
        for (String url : List.of("http://169.254.169.254/", "https://169.254.169.254/latest/meta-data/", "https://10.0.0.1/",
                "https://[::1]/", "https://localhost/hook", "https://127.0.0.1:8443/", "https://100.64.0.1/",
                "https://[fd00:ec2::254]/", "https://[fc00::1]/", "https://[::ffff:192.168.1.1]/", "https://0.0.0.0/",
                "https://224.0.0.1/", "http://example.com/hook", "https://user:pw@example.com/", "not a url",
                "http://127.0.0.1:9000/hook", "https://[2002:5db8:d822::1]/", "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
                "https://192.88.99.1/", "https://169.254.170.2/", "https://[64:ff9b::c058:6301]/")) {
            Reply r = api.put("/api/clients/me/webhook", Map.of("url", url, "events", List.of("usage.threshold")),
                    Map.of("X-API-Key", c.key()));
            assertThat(r.status()).as(url + " → " + r.body()).isEqualTo(400);
            assertThat(r.json().get("errors").get(0).get("field").asText()).isEqualTo("url");
        }
        assertThat(api.get("/api/clients/me/webhook", c.bearer()).status()).as("nothing was saved").isEqualTo(404);
    }
}
