package dev.usagetracker.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** template.yaml is the deployment and the local runtime's only definition: check what both rely on. */
class SamTemplateTest {
    private final SamTemplate template = SamTemplate.load(TestStack.PROJECT_ROOT.resolve("template.yaml"));

    @Test
    void everyRouteOfTheContractHasItsOwnFunction() {
        Map<String, String> routes = template.functions().stream()
                .flatMap(f -> f.routes().stream().map(r -> Map.entry(r.method() + " " + r.path(), f.logicalId())))
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
        assertThat(routes).containsEntry("POST /api/register", "RegisterFunction")
                .containsEntry("POST /api/token", "TokenFunction")
                .containsEntry("POST /api/logs", "IngestFunction")
                .containsEntry("GET /api/usage/daily", "DailyUsageFunction")
                .containsEntry("GET /api/usage/top", "TopUsageFunction")
                .containsEntry("GET /api/usage/hourly", "HourlyUsageFunction")
                .containsEntry("GET /api/usage/endpoints", "EndpointUsageFunction")
                .containsEntry("GET /api/usage/export", "UsageExportFunction")
                .containsEntry("GET /.well-known/jwks.json", "JwksFunction")
                .containsEntry("POST /api/usage/stream/ticket", "StreamTicketFunction");
    }

    @Test
    void liveUpdatesOnAwsAreAWebSocketApiAndAStreamDrivenFanout() {
        // $connect and $disconnect reach StreamFunction through its published alias (SnapStart)
        assertThat(WebSocketRoutes.of(template)).containsExactlyInAnyOrderEntriesOf(
                Map.of("$connect", "StreamFunction", "$disconnect", "StreamFunction"));
        assertThat(template.resources().get("WebSocketApi").properties()).containsEntry("ProtocolType", "WEBSOCKET");
        assertThat(String.valueOf(template.resources().get("WebSocketIntegration").properties().get("IntegrationUri")))
                .contains("${StreamFunction.Alias}");
        // the fan-out reads every change of the Usage table, old and new, and sees only daily items
        assertThat(SamTemplate.map(template.resources().get("UsageTable").properties().get("StreamSpecification")))
                .containsEntry("StreamViewType", "NEW_AND_OLD_IMAGES");
        Map<String, Object> fanout = SamTemplate.map(SamTemplate.map(SamTemplate.map(
                template.resources().get("StreamFanoutFunction").properties().get("Events")).get("UsageChanges")).get("Properties"));
        assertThat(String.valueOf(fanout.get("FilterCriteria"))).contains("day_bucket").contains("INSERT").contains("MODIFY");
        assertThat(SamTemplate.intValue(fanout.get("MaximumRecordAgeInSeconds"), 0)).isEqualTo(60);
        // connections: keyed by API Gateway's id, found by audience, removed by TTL when $disconnect never came
        assertThat(indexes("ConnectionsTable")).containsExactly("by_audience_rows");
        assertThat(SamTemplate.map(template.resources().get("ConnectionsTable").properties().get("TimeToLiveSpecification")))
                .containsEntry("AttributeName", "expires_at");
        // pushing is allowed on this API's stage only
        assertThat(String.valueOf(template.resources().get("StreamFanoutFunction").properties().get("Policies")))
                .contains("execute-api:ManageConnections").contains("${WebSocketApi}/${WebSocketStage}/POST/@connections/*");
    }

    @Test
    void everyFunctionJarIsBuiltAndHoldsItsHandler() throws Exception {
        for (SamTemplate.Function f : template.functions()) {
            var jar = TestStack.PROJECT_ROOT.resolve(f.codeUri());
            assertThat(jar).as(f.logicalId()).isRegularFile();
            try (var zip = new java.util.zip.ZipFile(jar.toFile())) {
                assertThat(zip.getEntry(f.handlerClass().replace('.', '/') + ".class")).as(f.logicalId()).isNotNull();
            }
        }
    }

    @Test
    void aMemorySizeGivenAsAParameterIsItsDefault() {
        // IngestMemorySize: the local runtime reports what a deploy without overrides gets (AWS_LAMBDA_FUNCTION_MEMORY_SIZE).
        SamTemplate.Function ingest = template.functions().stream().filter(f -> f.logicalId().equals("IngestFunction")).findFirst().orElseThrow();
        assertThat(ingest.memoryMb()).isEqualTo(Integer.parseInt(String.valueOf(template.parameters().get("IngestMemorySize"))));
        SamTemplate.Function register = template.functions().stream().filter(f -> f.logicalId().equals("RegisterFunction")).findFirst().orElseThrow();
        assertThat(register.memoryMb()).isEqualTo(1024);
    }

    @Test
    void consumerIsDrivenInLargeBatchesWithPartialFailures() {
        SamTemplate.Function consumer = template.functions().stream()
                .filter(f -> f.queueEvent().isPresent()).findFirst().orElseThrow();
        SamTemplate.QueueEvent q = consumer.queueEvent().orElseThrow();
        assertThat(q.queueLogicalId()).isEqualTo("HitsQueue");
        assertThat(q.batchSize()).isEqualTo(1000);
        assertThat(q.batchingWindowSeconds()).isBetween(1, 5);
        assertThat(q.reportsItemFailures()).isTrue();
        // SQS: visibility at least 6x the function timeout, or a slow batch is delivered twice at once.
        Object visibility = template.resources().get("HitsQueue").properties().get("VisibilityTimeout");
        assertThat(SamTemplate.intValue(visibility, 0)).isGreaterThanOrEqualTo(6 * consumer.timeoutSeconds());
        assertThat(template.resources().get("HitsQueue").properties()).containsKey("RedrivePolicy");
    }

    @Test
    void tablesHaveTheKeysAndIndexesTheCodeQueries() {
        // Raw hits are read only by key (docs/database.md): an index would cost 1 WRU per request for no reader.
        assertThat(indexes("HitsTable")).isEmpty();
        assertThat(indexes("UsageTable")).containsExactlyInAnyOrder("by_hour", "by_day");
        // Issue 28: a new stack's by_day/by_hour hold only keys (a count change writes no index entry); a stack
        // created before keeps INCLUDE [count] through the parameter (docs/deploy.md, "Upgrading").
        assertThat(template.parameters()).containsEntry("UsageHourIndexProjection", "KEYS_ONLY")
                .containsEntry("UsageDayIndexProjection", "KEYS_ONLY");
        assertThat(String.valueOf(template.resources().get("UsageTable").properties().get("GlobalSecondaryIndexes")))
                .doesNotContain("ProjectionType=INCLUDE").contains("UsageHourIndexProjection").contains("UsageDayIndexProjection");
        for (String table : List.of("ClientsTable", "HitsTable", "UsageTable")) {
            Map<String, Object> p = template.resources().get(table).properties();
            assertThat(p.get("BillingMode")).isEqualTo("PAY_PER_REQUEST");
            assertThat(SamTemplate.map(p.get("SSESpecification")).get("SSEEnabled")).isEqualTo(true);
            assertThat(SamTemplate.map(p.get("PointInTimeRecoverySpecification")).get("PointInTimeRecoveryEnabled")).isEqualTo(true);
        }
    }

    @Test
    void cfnLintPasses() throws Exception {
        Process p = new ProcessBuilder("cfn-lint", "template.yaml").directory(TestStack.PROJECT_ROOT.toFile())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(out).isZero();
    }

    @SuppressWarnings("unchecked")
    private List<String> indexes(String table) {
        List<Object> gsis = (List<Object>) template.resources().get(table).properties()
                .getOrDefault("GlobalSecondaryIndexes", List.of());
        // an index kept only under a condition (the Usage table's: !If [HasUsageHourIndex, {…}, !Ref AWS::NoValue]) is listed
        return gsis.stream().map(g -> g instanceof SamTemplate.Intrinsic i && i.function().equals("If") ? i.arguments().get(1) : g)
                .map(g -> (String) SamTemplate.map(g).get("IndexName")).toList();
    }

    @Test
    void erasuresRunOneAtATimeWithPartialFailuresAndADeadLetterQueue() {
        SamTemplate.Function eraser = template.functions().stream()
                .filter(f -> f.logicalId().equals("ErasureFunction")).findFirst().orElseThrow();
        SamTemplate.QueueEvent q = eraser.queueEvent().orElseThrow();
        assertThat(q.queueLogicalId()).isEqualTo("ErasureQueue");
        assertThat(q.reportsItemFailures()).isTrue();
        Object visibility = template.resources().get("ErasureQueue").properties().get("VisibilityTimeout");
        assertThat(SamTemplate.intValue(visibility, 0)).isGreaterThanOrEqualTo(6 * eraser.timeoutSeconds());
        assertThat(template.resources().get("ErasureQueue").properties()).containsKey("RedrivePolicy");
    }
}
