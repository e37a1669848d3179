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
        Emulators e = new Emulators(logDir, sqsPort, motoPort, redisPort);
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
        sqs = SQSRestServerBuilder.withInterface("127.0.0.1").withPort(sqsPort)
                .withServerAddress(new NodeAddress("http", "127.0.0.1", sqsPort, ""))
                .withAWSRegion(REGION).withAWSAccountId(ACCOUNT)
                .start();
        sqs.waitUntilStarted();
    }

    public void stopSqs() {
        if (sqs != null) {
            sqs.stopAndWait();
            sqs = null;
        }
    }

    /**
     * moto_server's own WSGI application with a fair lock per service and one table copy per transaction
     * (moto_server.py next to this class says why).
     */
    static final String MOTO_SERIALISED = motoScript();

    private static String motoScript() {
        try (var in = Emulators.class.getResourceAsStream("moto_server.py")) {
            if (in == null) throw new IllegalStateException("moto_server.py is missing from the local module");
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    public void startMoto() {
        moto = new ManagedProcess("moto_server", List.of("python3", "-c", MOTO_SERIALISED, "127.0.0.1", Integer.toString(motoPort)),
                logDir.resolve("moto.log"), () -> httpOk(awsEndpoint() + "/moto-api/")).start(Duration.ofSeconds(60));
    }

    public ManagedProcess moto() {
        return moto;
    }

    /** Starts redis-server on this stack's port, again after a crash or a kill: the runtime keeps its URL. */
    public void startRedis() {
        redis = redisServer(redisPort, logDir.resolve("redis.log"));
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
        up.put("sqs", sqs != null && portOpen(sqsPort));
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
