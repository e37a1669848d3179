package dev.usagetracker.forwarder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class AccessLogParserTest {
    private final AccessLogParser apiGateway = new AccessLogParser(FieldMapping.API_GATEWAY);

    @Test
    void httpApiLineBecomesAHitWithItsRouteTemplateMethodStatusAndLatency() {
        ForwardedHit hit = apiGateway.parse("""
                {"requestId":"r1","ip":"203.0.113.9","requestTimeEpoch":"1765015200123","routeKey":"GET /users/{id}",
                 "httpMethod":"GET","path":"/users/42","status":"404","responseLatency":"17"}""", 1).hit();
        assertThat(hit).isEqualTo(new ForwardedHit("203.0.113.9", "/users/{id}", Instant.ofEpochMilli(1765015200123L), "GET", 404, 17.0));
    }

    @Test
    void restApiLineUsesTheResourcePathAndTheCommonLogFormatTime() {
        ForwardedHit hit = apiGateway.parse("""
                {"ip":"2001:db8::7","requestTime":"06/Dec/2026:10:00:00 +0000","resourcePath":"/orders/{orderId}",
                 "httpMethod":"post","path":"/prod/orders/9","status":"201","responseLatency":"88"}""", 1).hit();
        assertThat(hit.endpoint()).isEqualTo("/orders/{orderId}");
        assertThat(hit.method()).isEqualTo("POST");
        assertThat(hit.timestamp()).isEqualTo(Instant.parse("2026-12-06T10:00:00Z"));
    }

    @Test
    void defaultRouteGreedyProxyAndMissingValuesFallBackToThePathAndTheLogEventsTime() {
        ForwardedHit byDefault = apiGateway.parse("""
                {"ip":"198.51.100.1","routeKey":"$default","httpMethod":"GET","path":"/healthz?probe=1","status":"-","responseLatency":"-"}""",
                1_765_015_200_000L).hit();
        assertThat(byDefault).isEqualTo(new ForwardedHit("198.51.100.1", "/healthz", Instant.ofEpochMilli(1_765_015_200_000L), "GET", null, null));
        ForwardedHit proxy = apiGateway.parse("""
                {"ip":"198.51.100.1","resourcePath":"/{proxy+}","httpMethod":"GET","path":"/a/b"}""", 1).hit();
        assertThat(proxy.endpoint()).isEqualTo("/a/b");
        ForwardedHit any = apiGateway.parse("""
                {"ip":"198.51.100.1","routeKey":"ANY /things/{id}","httpMethod":"DELETE","path":"/things/1"}""", 1).hit();
        assertThat(any.endpoint()).isEqualTo("/things/{id}");
        assertThat(any.method()).isEqualTo("DELETE");
    }

    @Test
    void valuesTheServiceWouldRefuseAreLeftOutNotTheHit() {
        ForwardedHit hit = apiGateway.parse("""
                {"ip":"198.51.100.1","routeKey":"GET /x","httpMethod":"GET IT","path":"/x","status":"600","responseLatency":"-5"}""", 1).hit();
        assertThat(hit.method()).isEqualTo("GET");  // from the route key, as the method variable is no token
        assertThat(hit.status()).isNull();
        assertThat(hit.durationMs()).isNull();
        assertThat(apiGateway.parse("""
                {"ip":"198.51.100.1","path":"/x","status":"200","responseLatency":"99999999"}""", 1).hit().durationMs()).isNull();
    }

    @Test
    void linesThatAreNotAccessLogsAreRefusedWithAReason() {
        assertThat(apiGateway.parse("GET /x 200", 1).refusal()).isEqualTo("not JSON");
        assertThat(apiGateway.parse("[1,2]", 1).refusal()).isEqualTo("not a JSON object");
        assertThat(apiGateway.parse("{\"ip\":\"198.51.100.1\",\"path\":\"/x\"", 1).refusal()).isEqualTo("not JSON");
        assertThat(apiGateway.parse("{\"path\":\"/x\"}", 1).refusal()).isEqualTo("no client address");
        assertThat(apiGateway.parse("{\"ip\":\"198.51.100.1\",\"routeKey\":\"-\"}", 1).refusal()).isEqualTo("no route or path");
    }

    @Test
    void aFieldMapReadsNginxJsonLogsWithSecondsAndEpochSeconds() {
        AccessLogParser nginx = new AccessLogParser(FieldMapping.parse(
                "ip=remote_addr, method=request_method, path=request_uri, status=status, duration_s=request_time, time=msec"));
        ForwardedHit hit = nginx.parse("""
                {"remote_addr":"192.0.2.4","request_method":"PUT","request_uri":"/v1/items/5?x=1","status":"204",
                 "request_time":"0.250","msec":"1765015200.500"}""", 1).hit();
        assertThat(hit).isEqualTo(new ForwardedHit("192.0.2.4", "/v1/items/5", Instant.ofEpochMilli(1765015200500L), "PUT", 204, 250.0));
    }

    @Test
    void aFieldMapReachesIntoNestedObjects() {
        AccessLogParser envoy = new AccessLogParser(FieldMapping.parse("ip=downstream.address,path=request.path,status=response.code,time=start_time"));
        ForwardedHit hit = envoy.parse("""
                {"downstream":{"address":"192.0.2.8"},"request":{"path":"/p"},"response":{"code":500},"start_time":"2026-12-06T10:00:00.250Z"}""", 1).hit();
        assertThat(hit).isEqualTo(new ForwardedHit("192.0.2.8", "/p", Instant.parse("2026-12-06T10:00:00.250Z"), null, 500, null));
    }

    @Test
    void aBadFieldMapIsRefusedAtStartWithItsReason() {
        assertThatThrownBy(() -> FieldMapping.parse("ip=a")).hasMessageContaining("ip and route or path");
        assertThatThrownBy(() -> FieldMapping.parse("ip=a,path=b,colour=c")).hasMessageContaining("unknown field 'colour'");
        assertThatThrownBy(() -> FieldMapping.parse("ip=a,path=b,duration_ms=c,duration_s=d")).hasMessageContaining("not both");
        assertThatThrownBy(() -> FieldMapping.parse("ip,path=b")).hasMessageContaining("not field=key");
    }
}
