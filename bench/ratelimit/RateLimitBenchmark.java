import dev.usagetracker.ratelimit.FailureMode;
import dev.usagetracker.ratelimit.FallbackRateLimiter;
import dev.usagetracker.ratelimit.Limit;
import dev.usagetracker.ratelimit.LocalRateLimiter;
import dev.usagetracker.ratelimit.RateLimiter;
import dev.usagetracker.ratelimit.RedisRateLimiter;
import dev.usagetracker.redis.Redis;
import dev.usagetracker.redis.RedisSettings;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The rate limiter against a real redis-server started here: checks per second and latency percentiles
 * for one caller (a Lambda container serves one request at a time), for several containers at once, the
 * cost of a check once Redis is dead and the breaker open, and Redis memory per client. Prints the machine.
 * Run with bench/ratelimit/run [seconds per phase, default 5].
 */
public class RateLimitBenchmark {
    static final List<Limit> INGEST = Limit.parse("ingest", "500/1m,1000/1h");
    static final int CLIENTS = 1_000;

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        machine();
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path log = Files.createTempFile("bench-redis", ".log");
        Process redisServer = new ProcessBuilder("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no").redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            awaitPing(port);
            System.out.println("redis-server  " + version(port) + " on 127.0.0.1:" + port + " (loopback: no network in these numbers)");
            String url = "redis://127.0.0.1:" + port;
            RedisSettings settings = RedisSettings.from(Map.of("REDIS_KEY_PREFIX", "bench:"));
            System.out.printf("limits        %s, %d clients, 1 unit per check%n%n", INGEST.stream().map(l -> l.quota() + "/" + l.windowSeconds() + "s").toList(), CLIENTS);

            try (Redis redis = new Redis(url, settings)) {
                RedisRateLimiter limiter = new RedisRateLimiter(redis);
                run("warm-up (not reported)", 1, Duration.ofSeconds(2), i -> limiter, false);
                run("1 container, sequential", 1, Duration.ofSeconds(seconds), i -> limiter, true);
            }
            List<Redis> containers = new ArrayList<>();
            for (int i = 0; i < 8; i++) containers.add(new Redis(url, settings));
            try {
                List<RateLimiter> limiters = containers.stream().map(r -> (RateLimiter) new RedisRateLimiter(r)).toList();
                run("warm-up (not reported)", 8, Duration.ofSeconds(2), limiters::get, false);
                run("8 containers, one request each at a time", 8, Duration.ofSeconds(seconds), limiters::get, true);
            } finally {
                containers.forEach(Redis::close);
            }
            try (Redis redis = new Redis(url, settings)) {
                RedisRateLimiter limiter = new RedisRateLimiter(redis);
                run("1 connection, 32 threads (pipelined)", 32, Duration.ofSeconds(seconds), i -> limiter, true);
            }
            memory(url, settings);

            try (Redis redis = new Redis(url, RedisSettings.from(Map.of("REDIS_KEY_PREFIX", "bench:", "REDIS_BREAKER_OPEN_SECONDS", "3600")))) {
                RateLimiter fallback = new FallbackRateLimiter(Optional.of(new RedisRateLimiter(redis)),
                        new LocalRateLimiter(Clock.systemUTC(), 10, Duration.ofHours(1)), FailureMode.LOCAL, Duration.ofSeconds(10));
                fallback.acquire("bench:warm", INGEST, 1);
                redisServer.destroyForcibly().waitFor();
                while (true) { // until the breaker has opened
                    try {
                        redis.call(c -> c.ping());
                    } catch (Redis.UnavailableException e) {
                        if (e.breakerOpen()) break;
                    }
                }
                run("redis dead, breaker open, local mode", 1, Duration.ofSeconds(seconds), i -> fallback, true);
            }
        } finally {
            redisServer.destroyForcibly();
        }
    }

    interface Limiters {
        RateLimiter get(int thread);
    }

    static void run(String name, int threads, Duration duration, Limiters limiters, boolean report) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<long[]>> results = new ArrayList<>();
        long[] allowed = new long[threads];
        long[] failed = new long[threads];
        for (int t = 0; t < threads; t++) {
            int thread = t;
            results.add(pool.submit(() -> {
                RateLimiter limiter = limiters.get(thread);
                long[] samples = new long[1_000_000];
                int n = 0;
                go.await();
                long end = System.nanoTime() + duration.toNanos();
                while (n < samples.length) {
                    String subject = "ingest:client-" + ThreadLocalRandom.current().nextInt(CLIENTS);
                    long t0 = System.nanoTime();
                    try {
                        if (limiter.acquire(subject, INGEST, 1).allowed()) allowed[thread]++;
                    } catch (Redis.UnavailableException e) {
                        failed[thread]++; // a timeout (100 ms) on a busy machine: counted, and in the latencies
                    }
                    long t1 = System.nanoTime();
                    samples[n++] = t1 - t0;
                    if (t1 > end) break;
                }
                return Arrays.copyOf(samples, n);
            }));
        }
        long start = System.nanoTime();
        go.countDown();
        List<long[]> all = new ArrayList<>();
        try {
            for (Future<long[]> f : results) all.add(f.get());
        } finally {
            pool.shutdownNow();
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        if (!report) return;
        long[] merged = all.stream().flatMapToLong(Arrays::stream).sorted().toArray();
        System.out.printf("%-42s %9.0f checks/s   p50 %7.1f us   p99 %7.1f us   p99.9 %8.1f us   (%d checks, %d allowed, %d timed out)%n",
                name, merged.length / elapsed, pct(merged, 0.50), pct(merged, 0.99), pct(merged, 0.999), merged.length,
                Arrays.stream(allowed).sum(), Arrays.stream(failed).sum());
    }

    static double pct(long[] sorted, double p) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)] / 1_000.0;
    }

    /** Bytes Redis holds for one client's ingest windows: one slot in use, and every slot in use (worst case). */
    static void memory(String url, RedisSettings settings) {
        try (Redis redis = new Redis(url, settings)) {
            Instant start = Instant.parse("2026-11-25T10:00:00Z");
            new RedisRateLimiter(redis, Optional.of(Clock.fixed(start, ZoneOffset.UTC))).acquire("ingest:one-slot", INGEST, 1);
            long oneMinute = memoryUsage(redis, "bench:rl:{ingest:one-slot}:60");
            long oneHour = memoryUsage(redis, "bench:rl:{ingest:one-slot}:3600");
            // one check a second for an hour fills all 60 slots of both windows (the minute keeps its last 60)
            List<Limit> roomy = Limit.parse("ingest", "100000/1m,100000/1h");
            for (int s = 0; s < 3600; s++) {
                new RedisRateLimiter(redis, Optional.of(Clock.fixed(start.plusSeconds(s), ZoneOffset.UTC)))
                        .acquire("ingest:all-slots", roomy, 1);
            }
            long fullMinute = memoryUsage(redis, "bench:rl:{ingest:all-slots}:60");
            long fullHour = memoryUsage(redis, "bench:rl:{ingest:all-slots}:3600");
            System.out.printf("%nmemory per client and route class (MEMORY USAGE): one slot used %d B (1m) + %d B (1h) = %d B;"
                    + " every slot used %d B + %d B = %d B%n", oneMinute, oneHour, oneMinute + oneHour, fullMinute, fullHour, fullMinute + fullHour);
            System.out.printf("  e.g. 100,000 active clients x 2 classes, worst case: %.0f MB%n%n", 200_000.0 * (fullMinute + fullHour) / 1e6);
        }
    }

    static long memoryUsage(Redis redis, String key) {
        Long bytes = redis.call(c -> c.memoryUsage(key));
        return bytes == null ? -1 : bytes;
    }

    static void machine() throws IOException {
        String cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse("unknown");
        System.out.println("machine       " + Runtime.getRuntime().availableProcessors() + " CPUs (nproc), " + cpu + ", "
                + System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"));
        System.out.println("JDK           " + System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version")
                + ", heap max " + Runtime.getRuntime().maxMemory() / (1 << 20) + " MB");
        double[] load = {0};
        try {
            load[0] = Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
        } catch (IOException | RuntimeException ignored) {
            // not Linux
        }
        System.out.println("load average  " + load[0] + " at start (other work on the machine skews the numbers)");
    }

    static void awaitPing(int port) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 500);
                OutputStream out = s.getOutputStream();
                out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
                InputStream in = s.getInputStream();
                byte[] buf = new byte[7];
                if (in.read(buf) > 0 && new String(buf, StandardCharsets.US_ASCII).startsWith("+PONG")) return;
            } catch (IOException notYet) {
                Thread.sleep(50);
            }
        }
        throw new IllegalStateException("redis-server did not start");
    }

    static String version(int port) {
        try (Redis redis = new Redis("redis://127.0.0.1:" + port, RedisSettings.from(Map.of()))) {
            String info = redis.call(c -> c.info("server"));
            return info.lines().filter(l -> l.startsWith("redis_version:")).map(l -> "v" + l.substring(14)).findFirst().orElse("?");
        }
    }
}
