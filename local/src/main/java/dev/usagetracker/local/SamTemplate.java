package dev.usagetracker.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.snakeyaml.engine.v2.api.ConstructNode;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;
import org.snakeyaml.engine.v2.nodes.Tag;

/**
 * template.yaml as the local runtime needs it: resources, functions with their routes and queue
 * events, and the environment. It is the single definition of tables, queues and keys; nothing
 * here keeps a second copy.
 */
public final class SamTemplate {
    /**
     * A CloudFormation short-form intrinsic ({@code !Ref X}, {@code !GetAtt X.Arn}, {@code !Sub "…"}); one
     * written with a list ({@code !If [Cond, a, b]}, {@code !Equals [a, b]}) has its items in {@code arguments}
     * (strings, lists, nested intrinsics) and no {@code argument}.
     */
    public record Intrinsic(String function, String argument, List<Object> arguments) {
        public Intrinsic(String function, String argument) {
            this(function, argument, List.of());
        }
    }

    public record Resource(String logicalId, String type, Map<String, Object> properties) {}

    /** A route; {@code authorizer} names the function of its Lambda REQUEST authorizer, if any. */
    public record HttpRoute(String method, String path, Optional<String> authorizer) {}

    public record QueueEvent(String queueLogicalId, int batchSize, int batchingWindowSeconds, boolean reportsItemFailures) {}

    /** An EventBridge schedule, {@code rate(n unit)} only. */
    public record ScheduleEvent(java.time.Duration period) {
        static Optional<ScheduleEvent> parse(String expression) {
            var m = java.util.regex.Pattern.compile("rate\\((\\d+) (minute|minutes|hour|hours|day|days)\\)").matcher(expression.trim());
            if (!m.matches()) return Optional.empty();
            long n = Long.parseLong(m.group(1));
            return Optional.of(new ScheduleEvent(switch (m.group(2).charAt(0)) {
                case 'm' -> java.time.Duration.ofMinutes(n);
                case 'h' -> java.time.Duration.ofHours(n);
                default -> java.time.Duration.ofDays(n);
            }));
        }
    }

    public record Function(String logicalId, String handler, String codeUri, int memoryMb, int timeoutSeconds,
                           Map<String, Object> environment, List<HttpRoute> routes, Optional<QueueEvent> queueEvent,
                           List<ScheduleEvent> schedules) {
        public String handlerClass() {
            return handler.split("::", 2)[0];
        }
    }

    private static final List<String> INTRINSICS = List.of("Ref", "GetAtt", "Sub", "If", "Equals", "Not", "Select",
            "Join", "Split", "And", "Or", "Condition", "FindInMap", "GetAZs", "ImportValue", "Base64", "Cidr");

    private final Map<String, Object> parameters;
    private final Map<String, Object> conditions;
    private final Map<String, Resource> resources;
    private final List<Function> functions;

    private SamTemplate(Map<String, Object> parameters, Map<String, Object> conditions, Map<String, Resource> resources,
                        List<Function> functions) {
        this.parameters = parameters;
        this.conditions = conditions;
        this.resources = resources;
        this.functions = functions;
    }

    public static SamTemplate load(Path file) {
        try {
            return parse(Files.readString(file));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    @SuppressWarnings("unchecked")
    static SamTemplate parse(String yaml) {
        Map<Tag, ConstructNode> intrinsics = new LinkedHashMap<>();
        for (String fn : INTRINSICS) {
            intrinsics.put(new Tag("!" + fn), SamTemplate::intrinsic);
        }
        Load load = new Load(LoadSettings.builder().setTagConstructors(intrinsics).build());
        Map<String, Object> root = (Map<String, Object>) load.loadFromString(yaml);

        Map<String, Object> parameters = new LinkedHashMap<>();
        map(root.get("Parameters")).forEach((name, def) -> parameters.put(name, map(def).get("Default")));
        Map<String, Object> conditions = new LinkedHashMap<>(map(root.get("Conditions")));

        Map<String, Object> globalFunction = map(map(root.get("Globals")).get("Function"));
        Map<String, Object> globalEnv = map(map(globalFunction.get("Environment")).get("Variables"));

        // Lambda authorizers of the HTTP APIs: authorizer name → function logical id.
        Map<String, String> authorizers = new LinkedHashMap<>();
        map(root.get("Resources")).forEach((id, raw) -> {
            if ("AWS::Serverless::HttpApi".equals(map(raw).get("Type"))) {
                map(map(map(map(raw).get("Properties")).get("Auth")).get("Authorizers")).forEach((name, def) -> {
                    if (map(def).get("FunctionArn") instanceof Intrinsic arn) authorizers.put(name, arn.argument().split("\\.")[0]);
                });
            }
        });
        Map<String, Resource> resources = new LinkedHashMap<>();
        List<Function> functions = new ArrayList<>();
        map(root.get("Resources")).forEach((id, raw) -> {
            Map<String, Object> r = map(raw);
            Resource resource = new Resource(id, (String) r.get("Type"), map(r.get("Properties")));
            resources.put(id, resource);
            if ("AWS::Serverless::Function".equals(resource.type())) {
                functions.add(function(resource, globalFunction, globalEnv, authorizers, parameters));
            }
        });
        return new SamTemplate(parameters, conditions, resources, functions);
    }

    private static Function function(Resource r, Map<String, Object> globals, Map<String, Object> globalEnv,
                                     Map<String, String> authorizers, Map<String, Object> parameters) {
        Map<String, Object> p = r.properties();
        Map<String, Object> env = new LinkedHashMap<>(globalEnv);
        env.putAll(map(map(p.get("Environment")).get("Variables")));
        List<HttpRoute> routes = new ArrayList<>();
        Optional<QueueEvent> queue = Optional.empty();
        List<ScheduleEvent> schedules = new ArrayList<>();
        for (Object rawEvent : map(p.get("Events")).values()) {
            Map<String, Object> event = map(rawEvent);
            Map<String, Object> ep = map(event.get("Properties"));
            switch (String.valueOf(event.get("Type"))) {
                case "HttpApi" -> {
                    Object name = map(ep.get("Auth")).get("Authorizer");
                    routes.add(new HttpRoute(String.valueOf(ep.get("Method")).toUpperCase(), (String) ep.get("Path"),
                            Optional.ofNullable(name == null ? null : authorizers.get(String.valueOf(name)))));
                }
                case "SQS" -> {
                    Intrinsic arn = (Intrinsic) ep.get("Queue");
                    queue = Optional.of(new QueueEvent(arn.argument().split("\\.")[0],
                            intValue(ep.get("BatchSize"), 10), intValue(ep.get("MaximumBatchingWindowInSeconds"), 0),
                            String.valueOf(ep.get("FunctionResponseTypes")).contains("ReportBatchItemFailures")));
                }
                case "Schedule" -> ScheduleEvent.parse(String.valueOf(ep.get("Schedule"))).ifPresent(schedules::add);
                default -> { /* other event sources are not emulated */ }
            }
        }
        return new Function(r.logicalId(), (String) p.get("Handler"), (String) p.get("CodeUri"),
                intValue(parameterDefault(p.getOrDefault("MemorySize", globals.get("MemorySize")), parameters), 128),
                intValue(p.getOrDefault("Timeout", globals.get("Timeout")), 3), env, routes, queue, List.copyOf(schedules));
    }

    public Map<String, Object> parameters() {
        return parameters;
    }

    /** The Conditions section: name → its (unevaluated) intrinsic. */
    public Map<String, Object> conditions() {
        return conditions;
    }

    public Map<String, Resource> resources() {
        return resources;
    }

    public List<Resource> resourcesOfType(String type) {
        return resources.values().stream().filter(r -> type.equals(r.type())).toList();
    }

    public List<Function> functions() {
        return functions;
    }

    private static String scalar(Node node) {
        return node instanceof ScalarNode s ? s.getValue() : null;
    }

    private static Intrinsic intrinsic(Node node) {
        String fn = node.getTag().getValue().substring(1);
        return node instanceof SequenceNode list
                ? new Intrinsic(fn, null, list.getValue().stream().map(SamTemplate::plain).toList())
                : new Intrinsic(fn, scalar(node));
    }

    /** An item of a list-form intrinsic: a nested intrinsic, a list, a mapping or a scalar's text. */
    private static Object plain(Node node) {
        if (node.getTag().getValue().startsWith("!") && INTRINSICS.contains(node.getTag().getValue().substring(1))) {
            return intrinsic(node);
        }
        return switch (node) {
            case SequenceNode list -> list.getValue().stream().map(SamTemplate::plain).toList();
            case MappingNode m -> {
                Map<String, Object> out = new LinkedHashMap<>();
                m.getValue().forEach(t -> out.put(scalar(t.getKeyNode()), plain(t.getValueNode())));
                yield out;
            }
            default -> scalar(node);
        };
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o) {
        return o instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
    }

    /** {@code !Ref Parameter} as the parameter's default (what a deploy without overrides gets); anything else as it is. */
    static Object parameterDefault(Object o, Map<String, Object> parameters) {
        return o instanceof Intrinsic i && i.function().equals("Ref") && parameters.containsKey(i.argument()) ? parameters.get(i.argument()) : o;
    }

    static int intValue(Object o, int fallback) {
        if (o instanceof Number n) return n.intValue();
        if (o instanceof String s && s.matches("\\d+")) return Integer.parseInt(s);
        return fallback;
    }
}
