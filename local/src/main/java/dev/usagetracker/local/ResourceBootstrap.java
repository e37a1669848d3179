package dev.usagetracker.local;

import dev.usagetracker.local.SamTemplate.Intrinsic;
import dev.usagetracker.local.SamTemplate.Resource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.GlobalSecondaryIndex;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.Projection;
import software.amazon.awssdk.services.dynamodb.model.ResourceNotFoundException;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.NotFoundException;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;
import software.amazon.awssdk.services.sqs.model.QueueNameExistsException;

/**
 * Creates the template's KMS keys, DynamoDB tables and SQS queues in whatever endpoint the clients
 * point at (emulators, LocalStack), idempotently, and resolves {@code !Ref}/{@code !GetAtt} to what
 * was created. Physical names are the logical ids with an optional prefix.
 */
public final class ResourceBootstrap {
    private final SamTemplate template;
    private final String prefix;
    private final Map<String, String> parameterOverrides;
    private final Map<String, String> refs = new HashMap<>();
    private final Map<String, String> attributes = new HashMap<>();

    public ResourceBootstrap(SamTemplate template, String prefix, Map<String, String> parameterOverrides) {
        this.template = template;
        this.prefix = prefix;
        this.parameterOverrides = Map.copyOf(parameterOverrides);
    }

    public ResourceBootstrap create(KmsClient kms, DynamoDbClient dynamo, SqsClient sqs, int visibilityTimeoutOverride) {
        template.resourcesOfType("AWS::KMS::Key").forEach(r -> createKey(kms, r));
        template.resourcesOfType("AWS::DynamoDB::Table").forEach(r -> createTable(dynamo, r));
        List<Resource> queues = new ArrayList<>(template.resourcesOfType("AWS::SQS::Queue"));
        queues.sort((a, b) -> Boolean.compare(a.properties().containsKey("RedrivePolicy"), b.properties().containsKey("RedrivePolicy")));
        queues.forEach(q -> createQueue(sqs, q, visibilityTimeoutOverride));
        return this;
    }

    /** The WebSocket API is emulated, not created: its API and stage ids resolve to "local". */
    public static Map<String, String> emulatedApiIds(SamTemplate template) {
        Map<String, String> ids = new LinkedHashMap<>();
        for (String type : List.of("AWS::ApiGatewayV2::Api", "AWS::ApiGatewayV2::Stage")) {
            template.resourcesOfType(type).forEach(r -> ids.put(r.logicalId(), "local"));
        }
        return ids;
    }

    /** A function's environment with every intrinsic resolved. */
    public Map<String, String> environment(SamTemplate.Function function) {
        Map<String, String> env = new LinkedHashMap<>();
        function.environment().forEach((name, value) -> env.put(name, resolve(value)));
        return env;
    }

    public String resolve(Object value) {
        if (value instanceof Intrinsic i) {
            return switch (i.function()) {
                case "Ref" -> ref(i.argument());
                case "GetAtt" -> {
                    String v = attributes.get(i.argument());
                    if (v == null) throw new IllegalStateException("unresolved !GetAtt " + i.argument());
                    yield v;
                }
                case "Sub" -> sub(i.argument());
                default -> throw new IllegalStateException("the local runtime cannot resolve !" + i.function());
            };
        }
        return value == null ? "" : String.valueOf(value);
    }

    /**
     * A property's value with {@code !If} chosen by its condition and {@code !Ref AWS::NoValue} as null;
     * lists are evaluated item by item, other intrinsics {@link #resolve resolved}.
     */
    Object value(Object raw) {
        if (raw instanceof List<?> list) return list.stream().map(this::value).toList();
        if (!(raw instanceof Intrinsic i)) return raw;
        if (i.function().equals("Ref") && "AWS::NoValue".equals(i.argument())) return null;
        if (i.function().equals("If")) {
            return value(i.arguments().get(condition(String.valueOf(i.arguments().get(0))) ? 1 : 2));
        }
        return resolve(i);
    }

    /** A condition of the template's Conditions section; Equals, Not, And, Or and Condition are understood. */
    boolean condition(String name) {
        Object c = template.conditions().get(name);
        if (c == null) throw new IllegalStateException("no condition " + name);
        return holds(c);
    }

    private boolean holds(Object c) {
        if (!(c instanceof Intrinsic i)) throw new IllegalStateException("not a condition: " + c);
        List<Object> args = i.arguments();
        return switch (i.function()) {
            case "Equals" -> String.valueOf(value(args.get(0))).equals(String.valueOf(value(args.get(1))));
            case "Not" -> !holds(args.get(0));
            case "And" -> args.stream().allMatch(this::holds);
            case "Or" -> args.stream().anyMatch(this::holds);
            case "Condition" -> condition(i.argument());
            default -> throw new IllegalStateException("the local runtime cannot evaluate !" + i.function() + " in a condition");
        };
    }

    public String ref(String logicalId) {
        if (refs.containsKey(logicalId)) return refs.get(logicalId);
        if (parameterOverrides.containsKey(logicalId)) return parameterOverrides.get(logicalId);
        if (template.parameters().containsKey(logicalId)) {
            Object d = template.parameters().get(logicalId);
            return d == null ? "" : String.valueOf(d);
        }
        return switch (logicalId) {
            case "AWS::Region" -> Emulators.REGION;
            case "AWS::AccountId" -> Emulators.ACCOUNT;
            case "AWS::Partition" -> "aws";
            case "AWS::URLSuffix" -> "amazonaws.com";
            default -> throw new IllegalStateException("unresolved !Ref " + logicalId);
        };
    }

    private String sub(String text) {
        StringBuilder out = new StringBuilder();
        var m = java.util.regex.Pattern.compile("\\$\\{([^}]+)}").matcher(text);
        while (m.find()) m.appendReplacement(out, java.util.regex.Matcher.quoteReplacement(
                m.group(1).contains(".") ? attributes.getOrDefault(m.group(1), "") : ref(m.group(1))));
        m.appendTail(out);
        return out.toString();
    }

    private void createKey(KmsClient kms, Resource r) {
        String alias = "alias/local/" + prefix + r.logicalId();
        String keyId;
        try {
            keyId = kms.describeKey(b -> b.keyId(alias)).keyMetadata().keyId();
        } catch (NotFoundException e) {
            Map<String, Object> p = r.properties();
            keyId = kms.createKey(b -> b.keySpec(String.valueOf(p.getOrDefault("KeySpec", "SYMMETRIC_DEFAULT")))
                    .keyUsage(String.valueOf(p.getOrDefault("KeyUsage", "ENCRYPT_DECRYPT")))
                    .description(r.logicalId())).keyMetadata().keyId();
            String created = keyId;
            kms.createAlias(b -> b.aliasName(alias).targetKeyId(created));
        }
        String id = keyId;
        refs.put(r.logicalId(), id);
        attributes.put(r.logicalId() + ".Arn", kms.describeKey(b -> b.keyId(id)).keyMetadata().arn());
    }

    @SuppressWarnings("unchecked")
    private void createTable(DynamoDbClient dynamo, Resource r) {
        String name = prefix + r.logicalId();
        Map<String, Object> p = r.properties();
        try {
            dynamo.describeTable(b -> b.tableName(name));
        } catch (ResourceNotFoundException missing) {
            // Items may be !If [condition, item, !Ref AWS::NoValue] (the Usage table's indexes: UsageHourIndexProjection).
            List<AttributeDefinition> attrs = items(p.get("AttributeDefinitions")).stream()
                    .map(a -> AttributeDefinition.builder().attributeName((String) a.get("AttributeName"))
                            .attributeType((String) a.get("AttributeType")).build()).toList();
            List<GlobalSecondaryIndex> gsis = items(p.getOrDefault("GlobalSecondaryIndexes", List.of()))
                    .stream().map(g -> {
                        Map<String, Object> proj = SamTemplate.map(g.get("Projection"));
                        // ProjectionType: !Ref UsageHourIndexProjection, NonKeyAttributes: !If [...] (template.yaml)
                        return GlobalSecondaryIndex.builder().indexName((String) g.get("IndexName"))
                                .keySchema(keySchema(g.get("KeySchema")))
                                .projection(Projection.builder().projectionType(resolve(proj.get("ProjectionType")))
                                        .nonKeyAttributes((List<String>) value(proj.get("NonKeyAttributes"))).build())
                                .build();
                    }).toList();
            dynamo.createTable(b -> b.tableName(name).billingMode(BillingMode.PAY_PER_REQUEST)
                    .attributeDefinitions(attrs).keySchema(keySchema(p.get("KeySchema")))
                    .globalSecondaryIndexes(gsis.isEmpty() ? null : gsis));
            Map<String, Object> ttl = SamTemplate.map(p.get("TimeToLiveSpecification"));
            if (Boolean.TRUE.equals(ttl.get("Enabled"))) {
                dynamo.updateTimeToLive(b -> b.tableName(name).timeToLiveSpecification(t -> t
                        .attributeName((String) ttl.get("AttributeName")).enabled(true)));
            }
        }
        refs.put(r.logicalId(), name);
        attributes.put(r.logicalId() + ".Arn", "arn:aws:dynamodb:" + Emulators.REGION + ":" + Emulators.ACCOUNT + ":table/" + name);
    }

    /** A list property's items with their !If chosen and those that are AWS::NoValue left out. */
    @SuppressWarnings("unchecked")
    private List<Map<String, Object>> items(Object raw) {
        return ((List<Object>) raw).stream().map(this::value).filter(java.util.Objects::nonNull)
                .map(i -> (Map<String, Object>) i).toList();
    }

    @SuppressWarnings("unchecked")
    private static List<KeySchemaElement> keySchema(Object raw) {
        return ((List<Map<String, Object>>) raw).stream().map(k -> KeySchemaElement.builder()
                .attributeName((String) k.get("AttributeName")).keyType((String) k.get("KeyType")).build()).toList();
    }

    private void createQueue(SqsClient sqs, Resource r, int visibilityTimeoutOverride) {
        String name = prefix + r.logicalId();
        Map<String, Object> p = r.properties();
        Map<QueueAttributeName, String> attrs = new HashMap<>();
        if (p.containsKey("VisibilityTimeout")) {
            attrs.put(QueueAttributeName.VISIBILITY_TIMEOUT, visibilityTimeoutOverride > 0
                    ? Integer.toString(visibilityTimeoutOverride) : resolve(p.get("VisibilityTimeout")));
        }
        if (p.containsKey("MessageRetentionPeriod")) {
            attrs.put(QueueAttributeName.MESSAGE_RETENTION_PERIOD, resolve(p.get("MessageRetentionPeriod")));
        }
        Map<String, Object> redrive = SamTemplate.map(p.get("RedrivePolicy"));
        if (!redrive.isEmpty()) {
            attrs.put(QueueAttributeName.REDRIVE_POLICY, "{\"deadLetterTargetArn\":\"" + resolve(redrive.get("deadLetterTargetArn"))
                    + "\",\"maxReceiveCount\":\"" + resolve(redrive.get("maxReceiveCount")) + "\"}");
        }
        String url;
        try {
            url = sqs.createQueue(b -> b.queueName(name).attributes(attrs)).queueUrl();
        } catch (QueueNameExistsException kept) {
            // A queue kept from an earlier run (.local/state) with other settings (LOCAL_VISIBILITY_TIMEOUT_SECONDS):
            // it keeps its messages and takes this run's attributes.
            url = sqs.getQueueUrl(b -> b.queueName(name)).queueUrl();
            String existing = url;
            sqs.setQueueAttributes(b -> b.queueUrl(existing).attributes(attrs));
        }
        String queueUrl = url;
        String arn = sqs.getQueueAttributes(b -> b.queueUrl(queueUrl).attributeNames(QueueAttributeName.QUEUE_ARN))
                .attributes().get(QueueAttributeName.QUEUE_ARN);
        refs.put(r.logicalId(), url);
        attributes.put(r.logicalId() + ".Arn", arn);
        attributes.put(r.logicalId() + ".QueueUrl", url);
        attributes.put(r.logicalId() + ".QueueName", name);
    }
}
