package dev.usagetracker.local;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.elasticmq.NodeAddress;
import org.elasticmq.rest.sqs.SQSRestServer;
import org.elasticmq.rest.sqs.SQSRestServerBuilder;

/**
 * The AWS stand-ins on this machine (DESIGN.md §6): ElasticMQ embedded in this JVM for SQS,
 * {@code moto_server} for DynamoDB and KMS, and a real {@code redis-server}, each on a free loopback port.
 */
public final class Emulators implements AutoCloseable {
    public static final String REGION = "us-east-1";
    public static final String ACCOUNT = "000000000000";

    private final Path logDir;
    private int sqsPort;
    private int motoPort;
    private int redisPort;
    private SQSRestServer sqs;
    private ManagedProcess moto;
    private ManagedProcess redis;
    private LocalState state;
    private scala.Function0<org.apache.pekko.actor.Terminated> persistentSqs;
    private String sqsDatabaseUrl;

    private Emulators(Path logDir, int sqsPort, int motoPort, int redisPort) {
        this.logDir = logDir;
        this.sqsPort = sqsPort;
        this.motoPort = motoPort;
        this.redisPort = redisPort;
    }

    /**
     * Starts all three; ports of 0 are chosen free, each just before its server starts, and chosen anew
     * when the server cannot have it: a port found free may be taken before the server binds it (CI saw
     * redis-server exit with 1 at start), most often as the ephemeral port of an outgoing loopback connection.
     */
    public static Emulators start(Path logDir, int sqsPort, int motoPort, int redisPort) {
        return start(logDir, sqsPort, motoPort, redisPort, null);
    }

    /** The same, keeping their data in {@code state} across restarts ({@code ./scripts/dev}); null keeps it in memory. */
    public static Emulators start(Path logDir, int sqsPort, int motoPort, int redisPort, LocalState state) {
        Emulators e = new Emulators(logDir, sqsPort, motoPort, redisPort);
        e.state = state;
        try {
            e.sqsPort = onFreePort(sqsPort, port -> { e.sqsPort = port; e.startSqs(); });
            e.motoPort = onFreePort(motoPort, port -> { e.motoPort = port; e.startMoto(); });
            e.redisPort = onFreePort(redisPort, port -> { e.redisPort = port; e.startRedis(); });
            return e;
        } catch (RuntimeException failure) {
            e.close();
            throw failure;
        }
    }

    private static final int PORT_ATTEMPTS = 3;

    /** Runs {@code start} on the requested port, or on up to three free ones in turn when none was requested. */
    private static int onFreePort(int requested, java.util.function.IntConsumer start) {
        if (requested != 0) {
            start.accept(requested);
            return requested;
        }
        for (int attempt = 1; ; attempt++) {
            int port = ManagedProcess.freePort();
            try {
                start.accept(port);
                return port;
            } catch (RuntimeException e) {
                if (attempt >= PORT_ATTEMPTS) throw e;
            }
        }
    }

    public void startSqs() {
        if (state != null) {
            startPersistentSqs();
            return;
        }
        sqs = SQSRestServerBuilder.withInterface("127.0.0.1").withPort(sqsPort)
                .withServerAddress(new NodeAddress("http", "127.0.0.1", sqsPort, ""))
                .withAWSRegion(REGION).withAWSAccountId(ACCOUNT)
                .start();
        sqs.waitUntilStarted();
    }

    /**
     * ElasticMQ's own server with its message storage: every queue and message (body, attributes, receive
     * count, visibility) in an H2 database, restored at start. H2 writes a commit to disk within about a
     * second, which bounds what a kill -9 of the runtime can lose of the queues.
     * <p>
     * H2 would close the database from a JVM shutdown hook of its own (DB_CLOSE_ON_EXIT), which runs beside
     * the runtime's: on Ctrl-C it closed the store while the consumer was still handing its batch back, that
     * hand-back failed (the batch returned only after its visibility timeout, 180 s, in the next run) and the
     * stop waited 5 s on ElasticMQ's dead persistence actor. So H2 is told not to, and {@link #stopSqs} closes
     * the store after ElasticMQ, which the runtime stops after its consumer.
     */
    private void startPersistentSqs() {
        java.util.Map<String, Object> settings = new java.util.HashMap<>();
        settings.put("node-address.protocol", "http");
        settings.put("node-address.host", "127.0.0.1");
        settings.put("node-address.port", sqsPort);
        settings.put("node-address.context-path", "");
        settings.put("generate-node-address", false);
        settings.put("rest-sqs.enabled", true);
        settings.put("rest-sqs.bind-port", sqsPort);
        settings.put("rest-sqs.bind-hostname", "127.0.0.1");
        settings.put("rest-sqs.sqs-limits", "strict");
        settings.put("aws.region", REGION);
        settings.put("aws.accountId", ACCOUNT);
        settings.put("queues-storage.enabled", false);
        settings.put("messages-storage.enabled", true);
        sqsDatabaseUrl = "jdbc:h2:" + state.sqsDatabase().toAbsolutePath() + ";DB_CLOSE_ON_EXIT=FALSE";
        settings.put("messages-storage.uri", sqsDatabaseUrl);
        settings.put("messages-storage.prune-data-on-init", false);
        com.typesafe.config.Config config = com.typesafe.config.ConfigFactory.parseMap(settings)
                .withFallback(com.typesafe.config.ConfigFactory.defaultReference(Emulators.class.getClassLoader()));
        persistentSqs = new org.elasticmq.server.ElasticMQServer(new org.elasticmq.server.config.ElasticMQServerConfig(config)).start();
        java.time.Instant deadline = java.time.Instant.now().plusSeconds(30);
        while (!portOpen(sqsPort)) {
            if (java.time.Instant.now().isAfter(deadline)) throw new IllegalStateException("ElasticMQ did not listen on " + sqsPort);
            ManagedProcess.sleep(50);
        }
    }

    public void stopSqs() {
        if (sqs != null) {
            sqs.stopAndWait();
            sqs = null;
        }
        if (persistentSqs != null) {
            persistentSqs.apply();   // its HTTP server, then its actors: nothing writes to the store after this
            persistentSqs = null;
        }
        if (sqsDatabaseUrl != null) {
            closeSqsDatabase();
            sqsDatabaseUrl = null;
        }
    }

    /**
     * H2's SHUTDOWN, on a connection of its own (ElasticMQ keeps its pool to itself): writes what is not on
     * disk yet and closes the database with every connection to it. Nothing else closes it (DB_CLOSE_ON_EXIT
     * is off); failing here costs what a kill -9 costs, the last second or so of queue changes.
     */
    private void closeSqsDatabase() {
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(sqsDatabaseUrl, "", "");
             java.sql.Statement s = c.createStatement()) {
            s.execute("SHUTDOWN");
        } catch (java.sql.SQLException e) {
            org.slf4j.LoggerFactory.getLogger(Emulators.class).warn("closing ElasticMQ's H2 store failed: {}", e.getMessage());
        }
    }

    /**
     * moto_server's own entry point, requests handled one at a time (moto's backends are not thread-safe),
     * and with a state, its DynamoDB and KMS backends snapshotted and restored: moto_server.py says how.
     */
    public void startMoto() {
        List<String> command = new java.util.ArrayList<>(List.of("python3", "-c", motoScript(), "127.0.0.1", Integer.toString(motoPort)));
        if (state != null) {
            try {
                java.nio.file.Files.createDirectories(state.motoSnapshot().getParent());
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            command.add(state.motoSnapshot().toAbsolutePath().toString());
        }
        moto = new ManagedProcess("moto_server", command, logDir.resolve("moto.log"),
                () -> httpOk(awsEndpoint() + "/moto-api/")).start(Duration.ofSeconds(60));
        if (state != null) state.recordPid("moto", moto.pid());
    }

    private static String motoScript() {
        try (InputStream in = Emulators.class.getResourceAsStream("moto_server.py")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    public ManagedProcess moto() {
        return moto;
    }

    /** Starts redis-server on this stack's port, again after a crash or a kill: the runtime keeps its URL. */
    public void startRedis() {
        if (state == null) {
            redis = redisServer(redisPort, logDir.resolve("redis.log"));
            return;
        }
        // With a state: an append-only file, fsynced every second, replayed at start; no RDB snapshots.
        try {
            java.nio.file.Files.createDirectories(state.redisDir());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        redis = ManagedProcess.startRetrying(10, Duration.ofMillis(500), () -> new ManagedProcess("redis-server",
                List.of("redis-server", "--port", Integer.toString(redisPort), "--bind", "127.0.0.1",
                        "--dir", state.redisDir().toAbsolutePath().toString(), "--save", "",
                        "--appendonly", "yes", "--appendfsync", "everysec", "--protected-mode", "yes"),
                logDir.resolve("redis.log"), () -> redisPing(redisPort)).start(Duration.ofSeconds(60)));
        state.recordPid("redis", redis.pid());
    }

    /**
     * A real redis-server on a loopback port, without persistence. A port just released by a killed
     * server, or held for a moment by an outgoing connection, makes redis exit at once with "Address
     * already in use": such a start is retried on the same port for about five seconds.
     */
    public static ManagedProcess redisServer(int port, Path log) {
        return ManagedProcess.startRetrying(10, Duration.ofMillis(500), () -> new ManagedProcess("redis-server",
                List.of("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
                        "--save", "", "--appendonly", "no", "--protected-mode", "yes"),
                log, () -> redisPing(port)).start(Duration.ofSeconds(20)));
    }

    public ManagedProcess redis() {
        return redis;
    }

    public String sqsEndpoint() {
        return "http://127.0.0.1:" + sqsPort;
    }

    public String awsEndpoint() {
        return "http://127.0.0.1:" + motoPort;
    }

    /** What an AWS SDK client needs to reach these emulators: region, dummy credentials, the endpoints. */
    public java.util.Map<String, String> clientEnvironment(String credential) {
        java.util.Map<String, String> env = new java.util.HashMap<>();
        env.put("AWS_REGION", REGION);
        env.put("AWS_ACCESS_KEY_ID", credential);
        env.put("AWS_SECRET_ACCESS_KEY", credential);
        env.put("AWS_ENDPOINT_URL_SQS", sqsEndpoint());
        env.put("AWS_ENDPOINT_URL_DYNAMODB", awsEndpoint());
        env.put("AWS_ENDPOINT_URL_KMS", awsEndpoint());
        return env;
    }

    public String redisUrl() {
        return "redis://127.0.0.1:" + redisPort;
    }

    /** Whether each service answers right now: SQS and DynamoDB/KMS over HTTP, Redis with PING. */
    public java.util.Map<String, Boolean> health() {
        java.util.Map<String, Boolean> up = new java.util.LinkedHashMap<>();
        up.put("sqs", (sqs != null || persistentSqs != null) && portOpen(sqsPort));
        up.put("moto", httpOk(awsEndpoint() + "/moto-api/"));
        up.put("redis", redisPing(redisPort));
        return up;
    }

    private static boolean portOpen(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public void close() {
        stopSqs();
        if (moto != null) moto.close();
        if (redis != null) redis.close();
    }

    static boolean httpOk(String url) {
        try {
            HttpURLConnection c = (HttpURLConnection) URI.create(url).toURL().openConnection();
            c.setConnectTimeout(500);
            c.setReadTimeout(2000);
            try {
                return c.getResponseCode() == 200;
            } finally {
                c.disconnect();
            }
        } catch (IOException e) {
            return false;
        }
    }

    static boolean redisPing(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 500);
            s.setSoTimeout(1000);
            OutputStream out = s.getOutputStream();
            out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            byte[] buf = new byte[7];
            int n = in.read(buf);
            return n > 0 && new String(buf, 0, n, StandardCharsets.US_ASCII).startsWith("+PONG");
        } catch (IOException e) {
            return false;
        }
    }
}
