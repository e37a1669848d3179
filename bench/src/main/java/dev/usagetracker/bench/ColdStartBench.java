package dev.usagetracker.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.usagetracker.App;
import dev.usagetracker.auth.Principal;
import dev.usagetracker.auth.Role;
import dev.usagetracker.clients.RegisteredClient;
import dev.usagetracker.clients.Registration;
import dev.usagetracker.http.Json;
import dev.usagetracker.ingest.HitBatch;
import dev.usagetracker.local.SamTemplate;
import dev.usagetracker.webhooks.WebhookService;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * bench/cold-start: every function jar, a fresh JVM per run ({@link ColdStartProbe}) against the local
 * stack started once, for each optimisation step next to the plain build, runs interleaved so that the
 * machine's noise hits every variant alike. Prints init, first invoke, their sum, a warm invocation,
 * loaded classes and jar size, and checks the targets (ingest init + first invoke under 700 ms, every
 * jar under 15 MB).
 */
public final class ColdStartBench {
    static final double INGEST_TARGET_MS = 700;
    static final long JAR_TARGET_BYTES = 15L * 1024 * 1024;
    private static final Pattern PROBE = Pattern.compile("(\\w+)=(\\S+)");
    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** One way of starting the function: JVM flags, priming, and which build of the jars. */
    record Variant(String name, String description, List<String> jvmFlags, boolean appCds, String priming, String dist) {}

    record Run(double bootMs, double initMs, double firstInvokeMs, double warmMs, long classes, String status) {
        double coldMs() {
            return initMs + firstInvokeMs;
        }
    }

    record Options(int runs, List<String> functions, int warm, boolean includePlainJars, boolean smoke) {
        static Options parse(String[] args) {
            int runs = 10;
            int warm = 5;
            List<String> functions = List.of();
            boolean plainJars = true;
            boolean smoke = false;
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--runs" -> runs = Integer.parseInt(args[++i]);
                    case "--warm" -> warm = Integer.parseInt(args[++i]);
                    case "--functions" -> functions = List.of(args[++i].split(","));
                    case "--no-plain-jars" -> plainJars = false;
                    case "--smoke" -> {
                        runs = 1;
                        warm = 1;
                        // The ingest path, and both functions whose events the runtime decodes with joda-time.
                        functions = List.of("IngestFunction", "HitConsumerFunction", "StreamFanoutFunction");
                        plainJars = false;
                        smoke = true;
                    }
                    default -> throw new IllegalArgumentException("unknown option " + args[i]
                            + " (--runs N, --warm N, --functions A,B, --no-plain-jars, --smoke)");
                }
            }
            return new Options(runs, functions, warm, plainJars, smoke);
        }
    }

    /** Per function: the variant name → its runs. */
    record Result(SamTemplate.Function function, long jarBytes, long plainJarBytes, Map<String, List<Run>> runs,
                  ClassCount classCount) {}

    record ClassCount(long total, long fromJar, long fromCds) {}

    public static void main(String[] args) throws Exception {
        Options options = Options.parse(args);
        List<Result> results = run(options, System.out);
        boolean ok = !results.isEmpty();
        System.exit(ok ? 0 : 1);
    }

    static List<Result> run(Options options, PrintStream out) throws Exception {
        Machine.print(out, "bench/cold-start");
        Path root = BenchStack.projectRoot();
        Path work = root.resolve("bench/target/cold-start");
        Files.createDirectories(work);
        Path probeJar = probeJar(work);
        Path serialization = Files.list(root.resolve("bench/target/probe-lib")).filter(p -> p.toString().endsWith(".jar"))
                .findFirst().orElseThrow(() -> new IllegalStateException("bench/target/probe-lib is empty; build with ./mvnw package"));
        boolean plainJars = options.includePlainJars() && Files.isDirectory(root.resolve("functions/target/dist-plain"));

        List<Variant> variants = new ArrayList<>();
        if (plainJars) {
            variants.add(new Variant("plain", "JVM defaults, unminimised jar, no priming", List.of(), false, "off", "dist-plain"));
        }
        variants.add(new Variant("default", "JVM defaults (C2, G1), no priming", List.of(), false, "off", "dist"));
        variants.add(new Variant("c1", "+ -XX:TieredStopAtLevel=1 -XX:+UseSerialGC", List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"), false, "off", "dist"));
        variants.add(new Variant("c1+cds", "+ AppCDS archive of the jar", List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"), true, "off", "dist"));
        variants.add(new Variant("c1+prime", "c1 + warm-up calls in parallel in the constructor (PRIMING=init)", List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"), false, "init", "dist"));
        variants.add(new Variant("c1+cds+prime", "all of the above", List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"), true, "init", "dist"));
        if (options.smoke()) variants.removeIf(v -> !v.name().equals("c1") && !v.name().equals("c1+cds+prime"));

        List<Result> results = new ArrayList<>();
        // The webhook functions deliver to this receiver on loopback (allowed as in the local runtime, see env below).
        com.sun.net.httpserver.HttpServer receiver = webhookReceiver();
        String webhookUrl = "http://127.0.0.1:" + receiver.getAddress().getPort() + "/hook";
        try (BenchStack stack = BenchStack.start("cold-")) {
            List<SamTemplate.Function> functions = stack.template.functions().stream()
                    .filter(f -> options.functions().isEmpty() || options.functions().contains(f.logicalId())).toList();
            out.printf(Locale.ROOT, "%d function(s) × %d variant(s) × %d run(s), a fresh JVM each; stack: moto_server, ElasticMQ, redis-server on loopback%n",
                    functions.size(), variants.size(), options.runs());
            for (Variant v : variants) out.printf("  %-14s %s%n", v.name(), v.description());
            for (SamTemplate.Function f : functions) {
                // Fresh clients and tokens per function: a full run outlasts an access token's lifetime.
                Map<String, String> placeholders = setUp(stack, webhookUrl);
                java.util.function.Supplier<Path> events = events(stack, work, f, placeholders);
                Path jar = root.resolve(f.codeUri());
                Path plainJar = root.resolve(f.codeUri().replace("/dist/", "/dist-plain/"));
                Map<String, String> env = new TreeMap<>(stack.functionEnvironment(f));
                env.remove("JAVA_TOOL_OPTIONS"); // each variant sets its flags itself
                // As the local runtime does: the template's "false" is the AWS setting; here the receiver is on loopback.
                if (env.containsKey("WEBHOOK_ALLOW_PRIVATE")) env.put("WEBHOOK_ALLOW_PRIVATE", "true");
                Map<String, Path> archives = new LinkedHashMap<>();
                for (Variant v : variants) {
                    if (!v.appCds()) continue;
                    Path archive = work.resolve(f.logicalId() + "-" + v.priming() + ".jsa");
                    Files.deleteIfExists(archive);
                    // Training run: the archive holds every class this function loads for init and one invocation.
                    probe(classpath(jarFor(root, f, v), probeJar, serialization), v.jvmFlags(), List.of("-XX:ArchiveClassesAtExit=" + archive, "-Xlog:cds*=error"),
                            env, v.priming(), f, events.get(), 0);
                    archives.put(v.name(), archive);
                }
                Map<String, List<Run>> runs = new LinkedHashMap<>();
                variants.forEach(v -> runs.put(v.name(), new ArrayList<>()));
                for (int i = 0; i < options.runs(); i++) {
                    // Rotate the order every run: a burst of load from elsewhere lands on each variant in turn.
                    for (int k = 0; k < variants.size(); k++) {
                        Variant v = variants.get((i + k) % variants.size());
                        List<String> extra = v.appCds() ? List.of("-XX:SharedArchiveFile=" + archives.get(v.name()), "-Xshare:auto")
                                : List.of();
                        runs.get(v.name()).add(probe(classpath(jarFor(root, f, v), probeJar, serialization), v.jvmFlags(), extra,
                                env, v.priming(), f, events.get(), options.warm()));
                    }
                }
                ClassCount classes = countClasses(classpath(jar, probeJar, serialization), env, f, events.get(), work);
                Result r = new Result(f, Files.size(jar), Files.exists(plainJar) ? Files.size(plainJar) : -1, runs, classes);
                results.add(r);
                print(out, r, variants);
            }
        } finally {
            receiver.stop(0);
        }
        summary(out, results, variants);
        return results;
    }

    private static Path jarFor(Path root, SamTemplate.Function f, Variant v) {
        return root.resolve(f.codeUri().replace("/dist/", "/" + v.dist() + "/"));
    }

    /** The admin, a client with an API key and tokens: what the fixture events need to be accepted. */
    static Map<String, String> setUp(BenchStack stack, String webhookUrl) throws IOException {
        App app = stack.app();
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        String adminKey = "ut_cold_start_admin_" + suffix;
        app.accounts().adminBootstrap().ensureAdmin(adminKey, "admin-" + suffix + "@example.com");
        RegisteredClient client = app.accounts().registration().register(new Registration("Cold start " + suffix,
                "cold-" + suffix + "@example.com", "cold-" + suffix, null));
        RegisteredClient rotating = app.accounts().registration().register(new Registration("Rotating " + suffix,
                "rotating-" + suffix + "@example.com", "rotating-" + suffix, null));
        Map<String, String> p = new TreeMap<>();
        p.put("api_key", client.apiKey());
        p.put("client_id", client.clientId());
        p.put("today", java.time.LocalDate.now(java.time.ZoneOffset.UTC).toString());
        // tokens name the key that minted them (akh): the client's current key
        p.put("client_token", app.identity().tokens().issue(client.clientId(), Role.CLIENT, keyIdOf(app, client.clientId())).accessToken());
        p.put("admin_token", app.identity().tokens().issue("admin", Role.ADMIN, keyIdOf(app, "admin")).accessToken());
        // rotation takes the API key itself, never a token
        p.put("rotate_key", rotating.apiKey());
        p.put("rotate_token", app.identity().tokens().issue(rotating.clientId(), Role.CLIENT, keyIdOf(app, rotating.clientId())).accessToken());
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        HitBatch batch = new HitBatch(1, "{{uuid}}", 0, 0, client.clientId(), now,
                List.of(new HitBatch.PackedHit(now.toEpochMilli(), "198.51.100.7", "/api/products")));
        p.put("consumer_body", MAPPER.writeValueAsString(new String(Json.write(batch), StandardCharsets.UTF_8)));
        p.put("webhook_url", webhookUrl);
        // a Standard Webhooks message id: msg_ and 26 hex characters
        p.put("webhook_message_id", "msg_" + UUID.randomUUID().toString().replace("-", "").substring(0, 26));
        return p;
    }

    /** The functions whose fixture needs the client to have a webhook (to the bench's receiver) before each invocation. */
    static final java.util.Set<String> NEED_WEBHOOK = java.util.Set.of("GetWebhookFunction", "DeleteWebhookFunction",
            "TestWebhookFunction", "WebhookDeliveryFunction");

    /**
     * The event of each probe JVM. Most fixtures are rendered once per function; some consume what they act
     * on, so each probe gets its own: {@code {{fresh_api_key}}} / {@code {{fresh_client_id}}} a newly
     * registered client (an erasure revokes the key it is asked with), {@code {{fresh_erasing_client_id}}} a
     * new client already marked erasing (what the erasure queue carries); the webhook functions get the
     * client's webhook (re)created first (a delete removes it). A probe's warm invocations repeat its event:
     * for the erasures they measure the repeated request (401 for the revoked key, a no-op for a finished
     * erasure), not a first one.
     */
    static java.util.function.Supplier<Path> events(BenchStack stack, Path work, SamTemplate.Function f,
                                                            Map<String, String> placeholders) throws IOException {
        String text = fixture(f);
        boolean fresh = text.contains("{{fresh_") || NEED_WEBHOOK.contains(f.logicalId());
        if (!fresh) {
            Path once = render(work, f, placeholders);
            return () -> once;
        }
        App webhookApp = NEED_WEBHOOK.contains(f.logicalId()) ? webhookApp(stack) : null;
        return () -> {
            try {
                Map<String, String> p = new TreeMap<>(placeholders);
                App app = stack.app();
                if (text.contains("{{fresh_api_key}}") || text.contains("{{fresh_client_id}}")) {
                    String suffix = UUID.randomUUID().toString().substring(0, 8);
                    RegisteredClient c = app.accounts().registration().register(new Registration("Erased " + suffix,
                            "erased-" + suffix + "@example.com", "erased-" + suffix, null));
                    p.put("fresh_api_key", c.apiKey());
                    p.put("fresh_client_id", c.clientId());
                }
                if (text.contains("{{fresh_erasing_client_id}}")) {
                    String suffix = UUID.randomUUID().toString().substring(0, 8);
                    RegisteredClient c = app.accounts().registration().register(new Registration("Erasing " + suffix,
                            "erasing-" + suffix + "@example.com", "erasing-" + suffix, null));
                    app.identity().clientStore().markErasing(c.clientId(), Instant.now()).orElseThrow();
                    p.put("fresh_erasing_client_id", c.clientId());
                }
                if (webhookApp != null) {
                    String clientId = placeholders.get("client_id");
                    Instant now = Instant.now();
                    Principal owner = new Principal(clientId, Role.CLIENT, Principal.scopesFor(Role.CLIENT), Principal.DEFAULT_PLAN,
                            keyIdOf(app, clientId), now.getEpochSecond(), now.getEpochSecond() + 3600);
                    webhookApp.webhooks().service().put(owner, new WebhookService.WebhookRequest(placeholders.get("webhook_url"),
                            List.of(WebhookService.USAGE_THRESHOLD), null));
                }
                return renderText(work, f, text, p);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        };
    }

    /** The bench's composition root as the webhook functions see it here: receivers on loopback allowed. */
    private static App webhookApp(BenchStack stack) {
        // The webhook settings are read from the process-wide LambdaEnvironment, not from Config: this JVM's view
        // gains the one variable (the probe JVMs get theirs from their own environment).
        Map<String, String> processEnv = new java.util.HashMap<>(System.getenv());
        processEnv.put("WEBHOOK_ALLOW_PRIVATE", "true");
        dev.usagetracker.config.LambdaEnvironment.install(processEnv);
        Map<String, String> env = new java.util.HashMap<>(stack.functionEnvironment(stack.function("PutWebhookFunction")));
        env.putAll(BenchStack.emulatorTimeoutsAnd());
        env.put("WEBHOOK_ALLOW_PRIVATE", "true");
        return new App(dev.usagetracker.config.Config.from(env), java.time.Clock.systemUTC());
    }

    /** Answers every delivery 204, as a healthy receiver would. */
    private static com.sun.net.httpserver.HttpServer webhookReceiver() throws IOException {
        var server = com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            try (exchange) {
                exchange.getRequestBody().readAllBytes();
                exchange.sendResponseHeaders(204, -1);
            }
        });
        server.start();
        return server;
    }

    private static String keyIdOf(App app, String clientId) {
        return app.identity().clientStore().find(clientId).orElseThrow().credentials().currentKeyId();
    }

    private static Path render(Path work, SamTemplate.Function f, Map<String, String> placeholders) throws IOException {
        return renderText(work, f, fixture(f), placeholders);
    }

    /** The fixture event of a function: bench/src/main/resources/events/&lt;logical id&gt;.json. */
    static String fixture(SamTemplate.Function f) throws IOException {
        String name = "/events/" + f.logicalId() + ".json";
        try (InputStream in = ColdStartBench.class.getResourceAsStream(name)) {
            if (in == null) throw new IllegalStateException("no fixture event " + name + " for " + f.logicalId());
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static Path renderText(Path work, SamTemplate.Function f, String text, Map<String, String> placeholders) throws IOException {
        for (Map.Entry<String, String> e : placeholders.entrySet()) text = text.replace("{{" + e.getKey() + "}}", e.getValue());
        Path file = work.resolve(f.logicalId() + ".event.json");
        Files.writeString(file, text);
        return file;
    }

    static String expectedStatus(SamTemplate.Function f) {
        return switch (f.logicalId()) {
            case "RegisterFunction" -> "201";
            case "IngestFunction", "TestWebhookFunction", "EraseOwnClientFunction", "AdminEraseClientFunction" -> "202";
            case "DeleteWebhookFunction" -> "204";
            case "AuthorizerFunction" -> "true";
            case "HitConsumerFunction", "PrefetchFunction", "StreamFanoutFunction", "ErasureFunction", "WebhookDeliveryFunction" -> "ok";
            default -> "200";
        };
    }

    static String classpath(Path jar, Path probeJar, Path serialization) {
        return jar + java.io.File.pathSeparator + probeJar + java.io.File.pathSeparator + serialization;
    }

    private static Run probe(String classpath, List<String> flags, List<String> extra, Map<String, String> env, String priming,
                             SamTemplate.Function f, Path event, int warm) throws IOException, InterruptedException {
        Map<String, String> values = probeValues(List.of(), classpath, flags, extra, env, priming, f, event, warm, 0);
        Run run = new Run(Long.parseLong(values.get("boot_ms")), Double.parseDouble(values.get("init_ms")),
                Double.parseDouble(values.get("first_invoke_ms")), Double.parseDouble(values.get("warm_median_ms")),
                Long.parseLong(values.get("classes")), values.get("status"));
        // A rotation may meet the one before it still settling (409): the function did all its work either way.
        boolean rotationRace = f.logicalId().equals("RotateKeyFunction") && "409".equals(run.status());
        if (!expectedStatus(f).equals(run.status()) && !rotationRace) {
            throw new IllegalStateException(f.logicalId() + ": first invocation answered " + run.status() + ", expected "
                    + expectedStatus(f) + "\n" + values.get("output_tail"));
        }
        return run;
    }

    /**
     * One probe JVM: its {@code PROBE} line as key/value pairs, plus {@code boot_ms} (spawn to the probe's
     * main) and {@code output_tail}. {@code prefix} runs before {@code java} (bench/lambda-memory: into a CPU-limited cgroup).
     */
    static Map<String, String> probeValues(List<String> prefix, String classpath, List<String> flags, List<String> extra,
                                           Map<String, String> env, String priming, SamTemplate.Function f, Path event,
                                           int warm, int skip) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(prefix);
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(flags);
        command.addAll(extra);
        command.addAll(List.of("-cp", classpath, ColdStartProbe.class.getName(), f.handlerClass(), event.toString(),
                Integer.toString(warm), Integer.toString(skip)));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().clear();
        pb.environment().putAll(env);
        pb.environment().put("PRIMING", priming);
        pb.environment().put("PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
        pb.environment().put("HOME", System.getProperty("user.home"));
        long spawned = System.currentTimeMillis();
        Process process = pb.start();
        byte[] output = process.getInputStream().readAllBytes();
        if (!process.waitFor(300, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException(f.logicalId() + ": probe JVM did not finish");
        }
        String text = new String(output, StandardCharsets.UTF_8);
        String line = text.lines().filter(l -> l.startsWith("PROBE ")).findFirst().orElseThrow(() ->
                new IllegalStateException(f.logicalId() + ": probe failed (exit " + process.exitValue() + "):\n" + tail(text)));
        Map<String, String> values = new TreeMap<>();
        Matcher m = PROBE.matcher(line);
        while (m.find()) values.put(m.group(1), m.group(2));
        values.put("boot_ms", Long.toString(Long.parseLong(values.get("main_epoch_ms")) - spawned));
        values.put("output_tail", tail(text));
        return values;
    }

    /** One extra, untimed run with class-load logging: how many classes, and from where. */
    private static ClassCount countClasses(String classpath, Map<String, String> env, SamTemplate.Function f, Path event, Path work)
            throws IOException, InterruptedException {
        Path log = work.resolve(f.logicalId() + ".classes.log");
        Files.deleteIfExists(log);
        probe(classpath, List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"),
                List.of("-Xlog:class+load=info:file=" + log), env, "off", f, event, 0);
        long total = 0;
        long fromJar = 0;
        long fromCds = 0;
        String jarName = classpath.substring(0, classpath.indexOf(java.io.File.pathSeparator));
        try (Stream<String> lines = Files.lines(log)) {
            for (String l : (Iterable<String>) lines::iterator) {
                if (!l.contains("source:")) continue;
                total++;
                if (l.contains(jarName)) fromJar++;
                if (l.contains("shared objects file")) fromCds++;
            }
        }
        return new ClassCount(total, fromJar, fromCds);
    }

    private static String tail(String text) {
        List<String> lines = text.lines().filter(l -> !l.contains("[cds]")).toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 25), lines.size()));
    }

    /** The probe's classes alone, as a jar: class data sharing does not accept directories on the class path. */
    static Path probeJar(Path work) throws IOException {
        Path jar = work.resolve("probe.jar");
        Path classes;
        try {
            classes = Path.of(ColdStartProbe.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                    .resolve(ColdStartProbe.class.getPackageName().replace('.', '/'));
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file);
             Stream<Path> list = Files.list(classes)) {
            for (Path c : list.filter(p -> p.getFileName().toString().startsWith(ColdStartProbe.class.getSimpleName())).sorted().toList()) {
                out.putNextEntry(new JarEntry(ColdStartProbe.class.getPackageName().replace('.', '/') + "/" + c.getFileName()));
                out.write(Files.readAllBytes(c));
                out.closeEntry();
            }
        }
        return jar;
    }

    private static void print(PrintStream out, Result r, List<Variant> variants) {
        out.printf(Locale.ROOT, "%n%s (%s) — jar %.1f MB%s; classes loaded: %d (%d from the function jar)%n",
                r.function.logicalId(), r.function.handlerClass().substring(r.function.handlerClass().lastIndexOf('.') + 1),
                r.jarBytes / 1048576.0, r.plainJarBytes > 0 ? String.format(Locale.ROOT, " (unminimised %.1f MB)", r.plainJarBytes / 1048576.0) : "",
                r.classCount.total, r.classCount.fromJar);
        out.printf("  %-14s %16s %16s %18s %18s %8s%n", "variant", "JVM start ms", "init ms", "first invoke ms",
                "init+first ms", "warm ms");
        out.printf("  %-14s %16s %16s %18s %18s %8s%n", "", "min/med/max", "min/med/max", "min/med/max", "min/med/max", "median");
        Stats base = null;
        for (Variant v : variants) {
            List<Run> runs = r.runs.get(v.name());
            Stats cold = Stats.of(runs.stream().map(Run::coldMs).toList());
            if (base == null) base = cold;
            out.printf(Locale.ROOT, "  %-14s %16s %16s %18s %18s %8.1f   ×%.2f%n", v.name(),
                    Stats.of(runs.stream().map(Run::bootMs).toList()).minMedMax(),
                    Stats.of(runs.stream().map(Run::initMs).toList()).minMedMax(),
                    Stats.of(runs.stream().map(Run::firstInvokeMs).toList()).minMedMax(),
                    cold.minMedMax(), Stats.of(runs.stream().map(Run::warmMs).toList()).median(), cold.median() / base.median());
        }
    }

    private static void summary(PrintStream out, List<Result> results, List<Variant> variants) {
        out.println("\nsummary: median init + first invoke, ms (ratio to the first variant)");
        out.printf("  %-22s", "function");
        variants.forEach(v -> out.printf("%16s", v.name()));
        out.println();
        for (Result r : results) {
            out.printf("  %-22s", r.function.logicalId());
            double base = Double.NaN;
            for (Variant v : variants) {
                double med = Stats.of(r.runs.get(v.name()).stream().map(Run::coldMs).toList()).median();
                if (Double.isNaN(base)) base = med;
                out.printf(Locale.ROOT, "%16s", String.format(Locale.ROOT, "%.0f (×%.2f)", med, med / base));
            }
            out.println();
        }
        // template.yaml: C1 + serial GC, PRIMING=checkpoint (no priming outside a SnapStart snapshot), minimised jar.
        Variant chosen = variants.stream().filter(v -> v.name().equals("c1")).findFirst().orElse(variants.getLast());
        results.stream().filter(r -> r.function.logicalId().equals("IngestFunction")).findFirst().ifPresent(r -> {
            double med = Stats.of(r.runs.get(chosen.name()).stream().map(Run::coldMs).toList()).median();
            out.printf(Locale.ROOT, "target: IngestFunction init + first invoke < %.0f ms with the deployed settings (%s): median %.0f ms → %s%n",
                    INGEST_TARGET_MS, chosen.name(), med, med < INGEST_TARGET_MS ? "MET" : "MISSED");
            variants.stream().filter(v -> v.appCds()).forEach(v -> {
                double m = Stats.of(r.runs.get(v.name()).stream().map(Run::coldMs).toList()).median();
                out.printf(Locale.ROOT, "        with %s: median %.0f ms → %s%n", v.name(), m, m < INGEST_TARGET_MS ? "MET" : "MISSED");
            });
        });
        long biggest = results.stream().mapToLong(Result::jarBytes).max().orElse(0);
        out.printf(Locale.ROOT, "target: every function jar < 15 MB: largest %.1f MB → %s%n", biggest / 1048576.0,
                biggest < JAR_TARGET_BYTES ? "MET" : "MISSED");
        out.println("JVM start = process spawn to the probe's main(); init = handler class load + constructor (Lambda's"
                + " Init Duration less the runtime's own start); first invoke = event decode + handleRequest + answer encode.");
    }
}
