package dev.usagetracker.local;

import static dev.usagetracker.local.LocalRuntimeE2EIT.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.usagetracker.crypto.EcdsaP256;
import dev.usagetracker.local.HttpJson.Reply;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Issue 18 findings 2 to 8, each as the request that showed it, against the real local runtime. */
@ExtendWith(TestStack.Extension.class)
class HardeningIT {
    static final String ADMIN_KEY = "hard-admin-key-0123456789";
    static LocalRuntime runtime;
    static HttpJson api;
    static TestStack stack;

    @BeforeAll
    static void start(TestStack s) throws Exception {
        stack = s;
        runtime = LocalRuntime.start(new LocalRuntime.Options(TestStack.PROJECT_ROOT, "127.0.0.1", 0,
                Optional.of(s.emulators()), Map.of("AUTH_CACHE_SECONDS", "0", "LOCAL_REQUEST_TIMEOUT_SECONDS", "6", "RateLimitRegister", "100000/1m",
                        "RateLimitIngest", "1000000/1m", "RateLimitRead", "100000/1m",
                        "RateLimitRegisterEmail", "3/1m", "RateLimitRegisterGlobal", "100000/1m"),
                Optional.of(ADMIN_KEY), Optional.of(Duration.ofMillis(200)), 2, 4, false, "hard-"));
        api = new HttpJson(runtime.baseUrl());
    }

    @AfterAll
    static void stop() {
        if (runtime != null) runtime.close();
    }

    // --- finding 4: one token, one string ------------------------------------------------------

    @Test
    void onlyTheCanonicalLowSSpellingOfATokenIsAccepted() {
        String key = register("jwt").get("api_key").asText();
        Base64.Decoder dec = Base64.getUrlDecoder();
        Base64.Encoder enc = Base64.getUrlEncoder().withoutPadding();
        boolean sawAlphabetVariant = false;
        // KMS signs with a random s: about half of unnormalised signatures would be high-S
        for (int i = 0; i < 12; i++) {
            String token = token(key);
            String[] parts = token.split("\\.");
            byte[] sig = dec.decode(parts[2]);
            assertThat(EcdsaP256.isCanonical(sig)).as("minted low-S").isTrue();
            assertThat(api.get("/api/usage/daily", bearer(token)).status()).isEqualTo(200);

            String twin = parts[0] + "." + parts[1] + "." + enc.encodeToString(EcdsaP256.twin(sig));
            assertProblem(api.get("/api/usage/daily", bearer(twin)), 401);
            assertProblem(api.get("/api/usage/daily", bearer(token + "==")), 401);
            String standard = parts[0] + "." + parts[1] + "." + parts[2].replace('-', '+').replace('_', '/');
            if (!standard.equals(token)) {
                sawAlphabetVariant = true;
                assertProblem(api.get("/api/usage/daily", bearer(standard)), 401);
            }
            // the authorizer (/api/usage/*) and the handlers' own verification (POST /api/logs) agree
            assertProblem(api.post("/api/logs", Map.of("ip", "192.0.2.1", "endpoint", "/x"), bearer(twin)), 401);
        }
        assertThat(sawAlphabetVariant).isTrue();
    }

    // --- finding 2: text is validated as Unicode ----------------------------------------------

    /** A field of a route's JSON body, with a valid body around it: {@code %s} is where the value goes. */
    record Field(String method, String path, String name, String template, Map<String, String> headers) {}

    @Test
    void unicodeFuzzOfEveryStringFieldOfEveryJsonRouteNeverAnswers5xxNorAcceptsWhatTheRulesRefuse() throws Exception {
        String key = register("fuzz").get("api_key").asText();
        Map<String, String> auth = Map.of("X-API-Key", key);
        List<Field> fields = List.of(
                new Field("POST", "/api/register", "name", "{\"name\":%s,\"email\":\"@EMAIL@\"}", Map.of()),
                new Field("POST", "/api/register", "email", "{\"name\":\"Fuzz\",\"email\":%s}", Map.of()),
                new Field("POST", "/api/register", "client_id", "{\"name\":\"Fuzz\",\"email\":\"@EMAIL@\",\"client_id\":%s}", Map.of()),
                new Field("POST", "/api/register", "allowed_ips[0]", "{\"name\":\"Fuzz\",\"email\":\"@EMAIL@\",\"allowed_ips\":[%s]}", Map.of()),
                new Field("POST", "/api/token", "api_key", "{\"api_key\":%s}", Map.of()),
                new Field("POST", "/api/logs", "ip", "{\"ip\":%s,\"endpoint\":\"/a\"}", auth),
                new Field("POST", "/api/logs", "endpoint", "{\"ip\":\"192.0.2.1\",\"endpoint\":%s}", auth),
                new Field("POST", "/api/logs", "timestamp", "{\"ip\":\"192.0.2.1\",\"endpoint\":\"/a\",\"timestamp\":%s}", auth),
                new Field("POST", "/api/logs", "hits[0].endpoint", "{\"hits\":[{\"ip\":\"192.0.2.1\",\"endpoint\":%s}]}", auth),
                new Field("POST", "/api/keys/rotate", "grace_seconds", "{\"grace_seconds\":%s}", auth),
                new Field("PATCH", "/api/clients/me", "allowed_ips[0]", "{\"allowed_ips\":[%s]}", auth));
        // what the rules refuse, each placed inside an otherwise plausible value
        List<String> refused = new ArrayList<>();
        for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
            if (Character.getType(cp) == Character.FORMAT) refused.add(Character.toString(cp));
        }
        int everyFormatCharacter = refused.size();
        refused.addAll(List.of("\ud800", "\udfff", "\udc00\ud800", "\u0000", "\u0007", "\u001b", "\u007f", "\u0085",
                "\u2028", "\u2029", "\ufffd", "\uffff", "\ufdd0"));
        int probes = 0;
        for (Field field : fields) {
            // every Cf character in the free-text fields, a sample of them elsewhere
            boolean freeText = field.name().equals("name") || field.name().endsWith("endpoint");
            for (int i = 0; i < refused.size(); i++) {
                if (!freeText && i < everyFormatCharacter && i % 16 != 0 && !refused.get(i).equals("\u202e")) continue;
                String bad = refused.get(i);
                String value = plausible(field.name(), bad);
                // spelled as a JSON escape, and (where UTF-8 can carry it) as raw UTF-8 bytes
                expectRefused(field, escapedJson(value).getBytes(StandardCharsets.US_ASCII), key, "escaped " + codePoints(bad));
                probes++;
                if (bad.chars().noneMatch(c -> Character.isSurrogate((char) c)) || bad.codePoints().allMatch(Character::isSupplementaryCodePoint)) {
                    expectRefused(field, rawJson(value), key, "raw " + codePoints(bad));
                    probes++;
                }
            }
            // bytes that are not UTF-8 at all: overlong NUL and '/', an encoded surrogate, a lone continuation, 0xFF, a truncated sequence
            for (byte[] invalid : List.of(new byte[] {(byte) 0xC0, (byte) 0x80}, new byte[] {(byte) 0xE0, (byte) 0x80, (byte) 0xAF},
                    new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, new byte[] {(byte) 0x80}, new byte[] {(byte) 0xFF},
                    new byte[] {(byte) 0xF0, (byte) 0x9F, (byte) 0x98})) {
                ByteArrayOutputStream v = new ByteArrayOutputStream();
                v.write('"');
                v.write(plausible(field.name(), "").getBytes(StandardCharsets.UTF_8));
                v.write(invalid);
                v.write('"');
                expectRefused(field, bodyWith(field, v.toByteArray()), key, "invalid UTF-8");
                probes++;
            }
        }
        assertThat(probes).isGreaterThan(everyFormatCharacter * 4);

        // combining marks: a composed name is stored in NFC; a pile of them, or one at the start, is refused
        Reply composed = api.post("/api/register", Map.of("name", "Cafe\u0301 Zu\u0308rich", "email", "nfc-" + UUID.randomUUID() + "@example.com"), Map.of());
        assertThat(composed.status()).as(composed.body()).isEqualTo(201);
        assertThat(composed.json().get("name").asText()).isEqualTo("Caf\u00e9 Z\u00fcrich");
        assertProblem(api.post("/api/register", Map.of("name", "Z\u0301\u0302\u0303\u0304\u0305\u0306algo",
                "email", "zalgo-" + UUID.randomUUID() + "@example.com"), Map.of()), 400);
        assertProblem(api.post("/api/register", Map.of("name", "\u0301x", "email", "mark-" + UUID.randomUUID() + "@example.com"), Map.of()), 400);
        // the issue's addresses, and markup in a name
        for (String email : List.of("a@[127.0.0.1]", "a@b..example", "<a@b.example>")) {
            assertProblem(api.post("/api/register", Map.of("name", "Mail", "email", email), Map.of()), 400);
        }
        assertProblem(api.post("/api/register", Map.of("name", "<b>bold</b>", "email", "markup-" + UUID.randomUUID() + "@example.com"), Map.of()), 400);
        // an internationalised domain is one address in its ASCII form
        Reply idn = api.post("/api/register", Map.of("name", "IDN", "email", "x-" + UUID.randomUUID().toString().substring(0, 8) + "@B\u00fccher.example"), Map.of());
        assertThat(idn.status()).as(idn.body()).isEqualTo(201);
        assertThat(idn.json().get("email").asText()).endsWith("@xn--bcher-kva.example");
        // a charset other than UTF-8 is 415
        Reply latin1 = api.post("/api/logs", "application/json; charset=ISO-8859-1", "{\"ip\":\"192.0.2.1\",\"endpoint\":\"/a\"}", auth);
        assertProblem(latin1, 415);
        assertThat(api.post("/api/logs", "application/json; charset=utf-8", "{\"ip\":\"192.0.2.1\",\"endpoint\":\"/a\"}", auth).status()).isEqualTo(202);
    }

    private static String plausible(String field, String bad) {
        return switch (field) {
            case "email" -> "fu" + bad + "zz@example.com";
            case "client_id" -> "fuzz-" + bad + "id";
            case "allowed_ips[0]", "ip" -> "192.0.2." + bad + "1";
            case "api_key" -> "ut_" + bad + "x".repeat(40);
            case "timestamp" -> "2026-01-01T00:00:00" + bad + "Z";
            case "grace_seconds" -> "6" + bad + "0";
            case "endpoint", "hits[0].endpoint" -> "/api/" + bad + "products";
            default -> "Fu" + bad + "zz";
        };
    }

    private static void expectRefused(Field field, byte[] jsonValue, String key, String what) throws Exception {
        byte[] body = jsonValue[0] == '{' ? jsonValue : bodyWith(field, jsonValue);
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(runtime.baseUrl() + field.path())).timeout(Duration.ofSeconds(30))
                .method(field.method(), HttpRequest.BodyPublishers.ofByteArray(body)).header("Content-Type", "application/json");
        field.headers().forEach(b::header);
        HttpResponse<String> r = RAW.send(b.build(), HttpResponse.BodyHandlers.ofString());
        String as = field.method() + " " + field.path() + " " + field.name() + " " + what;
        assertThat(r.statusCode()).as(as + ": " + r.body()).isEqualTo(400);
        assertThat(r.headers().firstValue("Content-Type")).as(as).contains("application/problem+json");
    }

    private static final HttpClient RAW = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private static byte[] bodyWith(Field field, byte[] jsonValue) {
        String template = field.template().replace("@EMAIL@", "f-" + UUID.randomUUID() + "@example.com");
        int at = template.indexOf("%s");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(template.substring(0, at).getBytes(StandardCharsets.UTF_8));
        out.writeBytes(jsonValue);
        out.writeBytes(template.substring(at + 2).getBytes(StandardCharsets.UTF_8));
        return out.toByteArray();
    }

    /** A JSON string with every character outside printable ASCII as a \\u escape (lone surrogates included). */
    private static String escapedJson(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') sb.append(c);
            else sb.append(String.format("\\u%04x", (int) c));
        }
        return sb.append('"').toString();
    }

    /** A JSON string as raw UTF-8 (control characters escaped: JSON forbids them raw, which is another 400). */
    private static byte[] rawJson(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c < 0x20 || c == '"' || c == '\\') sb.append(String.format("\\u%04x", (int) c));
            else sb.append(c);
        }
        return sb.append('"').toString().getBytes(StandardCharsets.UTF_8);
    }

    private static String codePoints(String s) {
        StringBuilder sb = new StringBuilder();
        s.chars().forEach(c -> sb.append(String.format("U+%04X ", c)));
        return sb.toString().trim();
    }

    // --- finding 3: registration does not tell which addresses have an account ----------------

    @Test
    void everyRegistrationConflictGetsOneAnswerAndEachAddressIsLimitedFromAnySourceIp() throws Exception {
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        String email = "Alice-" + suffix + "@alpha.example";
        Reply first = api.post("/api/register", Map.of("name", "Alice", "email", email, "client_id", "alice-" + suffix), Map.of());
        assertThat(first.status()).as(first.body()).isEqualTo(201);

        Reply emailTaken = api.post("/api/register", Map.of("name", "x", "email", email.toUpperCase()), Map.of());
        Reply idTaken = api.post("/api/register", Map.of("name", "x", "email", "other-" + suffix + "@beta.example",
                "client_id", "alice-" + suffix), Map.of());
        for (Reply conflict : List.of(emailTaken, idTaken)) {
            assertProblem(conflict, 409);
            JsonNode p = conflict.json();
            JsonNode q = emailTaken.json();
            assertThat(List.of(p.get("type"), p.get("title"), p.get("detail"))).isEqualTo(List.of(q.get("type"), q.get("title"), q.get("detail")));
            assertThat(conflict.body()).doesNotContainIgnoringCase("email").doesNotContain("alice");
        }
        // RateLimitRegisterEmail=3/1m: the 201 and the upper-case 409 were two attempts on the address, this is the third
        assertProblem(api.post("/api/register", Map.of("name", "x", "email", email), Map.of()), 409);
        Reply limited = api.post("/api/register", Map.of("name", "x", "email", email), Map.of());
        assertProblem(limited, 429);
        assertThat(limited.header("Retry-After")).isNotNull();
        // from another source IP too, and whatever the case of the address
        HttpJson elsewhere = new HttpJson(runtime.baseUrl(), java.net.InetAddress.getByName("127.0.0.2"));
        assertProblem(elsewhere.post("/api/register", Map.of("name", "x", "email", email.toLowerCase()), Map.of()), 429);
        // the refusal says nothing the caller could not know: the same detail as any registration limit
        assertThat(limited.json().get("detail").asText()).doesNotContain(email).doesNotContainIgnoringCase("address");
        // another address from the same IP is not affected
        assertThat(api.post("/api/register", Map.of("name", "x", "email", "fresh-" + suffix + "@beta.example"), Map.of()).status()).isEqualTo(201);
    }

    @Test
    void aCeilingAcrossAllSourceAddressesStopsRegistrationsFromManyIps() throws Exception {
        try (LocalRuntime ceiling = LocalRuntime.start(new LocalRuntime.Options(TestStack.PROJECT_ROOT, "127.0.0.1", 0,
                Optional.of(stack.emulators()), Map.of("RateLimitRegister", "1000/1m", "RateLimitRegisterGlobal", "4/1m"),
                Optional.of("hard-ceiling-admin-key-0123"), Optional.of(Duration.ofMillis(200)), 2, 2, false, "hardc-"))) {
            List<Integer> statuses = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                HttpJson from = new HttpJson(ceiling.baseUrl(), java.net.InetAddress.getByName("127.0.0." + (10 + i)));
                statuses.add(from.post("/api/register", Map.of("name", "many", "email", "many-" + UUID.randomUUID() + "@example.com"), Map.of()).status());
            }
            assertThat(statuses).containsExactly(201, 201, 201, 201, 429, 429);
        }
    }

    // --- finding 8: the INFO decisions --------------------------------------------------------

    @Test
    void theAdminPrefixAndLookalikeNamesAreReserved() {
        for (String id : List.of("admin", "admin-ops", "admin_ops", "administrator", "adm1n-x", "4dmin", "admln")) {
            Reply r = api.post("/api/register", Map.of("name", "Ops", "email", "res-" + UUID.randomUUID() + "@example.com", "client_id", id), Map.of());
            assertProblem(r, 400);
            assertThat(r.json().get("errors").get(0).get("field").asText()).as(id).isEqualTo("client_id");
        }
        for (String name : List.of("Admin", "ADMIN", "\uff21\uff24\uff2d\uff29\uff2e", "\u0410dmin", "A.d.m.i.n", "adm1n")) {
            Reply r = api.post("/api/register", Map.of("name", name, "email", "res-" + UUID.randomUUID() + "@example.com"), Map.of());
            assertProblem(r, 400);
            assertThat(r.json().get("errors").get(0).get("field").asText()).as(name).isEqualTo("name");
        }
        Reply tools = api.post("/api/register", Map.of("name", "Admin Tools", "email", "tools-" + UUID.randomUUID() + "@example.com"), Map.of());
        assertThat(tools.status()).as(tools.body()).isEqualTo(201);
        assertThat(tools.json().get("client_id").asText()).doesNotStartWith("adm").startsWith("client-");
        assertThat(api.post("/api/register", Map.of("name", "Badminton Club", "email", "bad-" + UUID.randomUUID() + "@example.com",
                "client_id", "badminton-" + UUID.randomUUID().toString().substring(0, 6)), Map.of()).status()).isEqualTo(201);
    }

    @Test
    void numericQueryParametersTakeOnlyPlainAsciiDigits() {
        String token = token(register("digits").get("api_key").asText());
        for (String days : List.of("%D9%A7", "%EF%BC%97", "%2B7", "-7", "07", "007", "7%00", "%207", "7%20", "7.0", "0x7", "1e1")) {
            assertProblem(api.get("/api/usage/daily?days=" + days, bearer(token)), 400);
        }
        assertThat(api.get("/api/usage/daily?days=7", bearer(token)).status()).isEqualTo(200);
        assertThat(api.get("/api/usage/daily?days=10", bearer(token)).status()).isEqualTo(200);
    }

    @Test
    void aReplayOfAnIdempotentRequestIsNotChargedAgainstTheRateLimit() throws Exception {
        try (LocalRuntime limited = LocalRuntime.start(new LocalRuntime.Options(TestStack.PROJECT_ROOT, "127.0.0.1", 0,
                Optional.of(stack.emulators()), Map.of("RateLimitRegister", "1000/1m", "RateLimitIngest", "2/1m"),
                Optional.of("hard-replay-admin-key-0123"), Optional.of(Duration.ofMillis(200)), 2, 2, false, "hardr-"))) {
            HttpJson there = new HttpJson(limited.baseUrl());
            Reply reg = there.post("/api/register", Map.of("name", "Replayer", "email", "replay-" + UUID.randomUUID() + "@example.com"), Map.of());
            assertThat(reg.status()).as(reg.body()).isEqualTo(201);
            String key = reg.json().get("api_key").asText();
            Map<String, String> keyed = Map.of("X-API-Key", key, "Idempotency-Key", "retry-" + UUID.randomUUID());
            Map<String, Object> hit = Map.of("ip", "192.0.2.9", "endpoint", "/replayed");
            assertThat(there.post("/api/logs", hit, keyed).status()).isEqualTo(202);       // charged: 1 of 2
            for (int i = 0; i < 5; i++) {
                Reply replay = there.post("/api/logs", hit, keyed);                      // the same request again: free
                assertThat(replay.status()).as("replay %d: %s", i, replay.body()).isEqualTo(202);
                assertThat(replay.json().get("accepted").asInt()).isEqualTo(1);
            }
            assertThat(there.post("/api/logs", hit, Map.of("X-API-Key", key)).status()).isEqualTo(202); // 2 of 2
            assertProblem(there.post("/api/logs", hit, Map.of("X-API-Key", key)), 429);
        }
    }

    // --- finding 5: a declared length over the limit is refused at once -----------------------

    @Test
    void aDeclaredContentLengthOverTheLimitIsRefusedBeforeTheBodyArrives() throws Exception {
        String key = register("big").get("api_key").asText();
        String answer = rawExchange(runtime.port(), "POST /api/logs HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: " + key
                + "\r\nContent-Type: application/json\r\nContent-Length: 999999999\r\n\r\n{\"ip\":", Duration.ofSeconds(10));
        assertThat(answer).startsWith("HTTP/1.1 413");
        assertThat(answer).containsIgnoringCase("content-type: application/problem+json");
        // just over the limit, too; at the limit the body is read (and judged by the function)
        String over = rawExchange(runtime.port(), "POST /api/register HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + (256 * 1024 + 1) + "\r\n\r\n", Duration.ofSeconds(10));
        assertThat(over).startsWith("HTTP/1.1 413");
    }

    @Test
    void slowBodiesAndSlowHeadersAreCutOffAtTheConfiguredDeadline() throws Exception {
        // this runtime has LOCAL_REQUEST_TIMEOUT_SECONDS=6 (RequestDeadlines): the time to send a request, not to answer it
        assertThat(runtime.requestTimeout()).isEqualTo(Duration.ofSeconds(6));
        String key = register("slow").get("api_key").asText();
        // a body declared as 1000 bytes of which 10 arrive
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", runtime.port())) {
            long started = System.nanoTime();
            socket.getOutputStream().write(("POST /api/logs HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: " + key
                    + "\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"ip\":\"1.2").getBytes(StandardCharsets.US_ASCII));
            socket.setSoTimeout(40_000);
            assertThat(closedByServer(socket)).isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isBetween(Duration.ofSeconds(5), Duration.ofSeconds(30));
        }
        // headers dripping in a byte at a time, each in time for an idle timeout, never finishing
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", runtime.port())) {
            long started = System.nanoTime();
            var out = socket.getOutputStream();
            out.write("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ".getBytes(StandardCharsets.US_ASCII));
            boolean cut = false;
            while (!cut && System.nanoTime() - started < Duration.ofSeconds(35).toNanos()) {
                try {
                    out.write('a');
                    out.flush();
                    Thread.sleep(500);
                    socket.setSoTimeout(1);
                    try {
                        cut = socket.getInputStream().read() == -1;
                    } catch (java.net.SocketTimeoutException stillOpen) {
                        // still open
                    }
                } catch (java.io.IOException reset) {
                    cut = true;
                }
            }
            assertThat(cut).as("the server closed the connection").isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isBetween(Duration.ofSeconds(5), Duration.ofSeconds(30));
        }
    }

    private static boolean closedByServer(java.net.Socket socket) {
        try {
            return socket.getInputStream().read() == -1;
        } catch (java.net.SocketTimeoutException e) {
            return false;
        } catch (java.io.IOException reset) {
            return true;
        }
    }

    // --- finding 6: every error is problem+json, 405 says what is allowed ---------------------

    @Test
    void a405CarriesAllowAndAWebSocketRefusalIsAProblemWithoutAServerBanner() throws Exception {
        Reply wrong = api.send(HttpRequest.newBuilder(URI.create(runtime.baseUrl() + "/api/register")).method("DELETE",
                HttpRequest.BodyPublishers.noBody()).build());
        assertProblem(wrong, 405);
        assertThat(wrong.header("Allow")).isEqualTo("POST");
        Reply get = api.send(HttpRequest.newBuilder(URI.create(runtime.baseUrl() + "/api/usage/daily")).method("PUT",
                HttpRequest.BodyPublishers.noBody()).build());
        assertProblem(get, 405);
        assertThat(get.header("Allow")).isEqualTo("GET");

        URI ws = URI.create(runtime.webSocketUrl());
        String refusal = rawExchange(ws.getPort(), "GET /?token=not.a.token HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", Duration.ofSeconds(10));
        assertThat(refusal).startsWith("HTTP/1.1 401");
        assertThat(refusal).containsIgnoringCase("content-type: application/problem+json");
        assertThat(refusal.toLowerCase()).doesNotContain("server:").doesNotContain("jetty");
        JsonNode problem = new com.fasterxml.jackson.databind.ObjectMapper().readTree(refusal.substring(refusal.indexOf("\r\n\r\n") + 4));
        assertThat(problem.get("status").asInt()).isEqualTo(401);
        assertThat(problem.hasNonNull("type") && problem.hasNonNull("title") && problem.hasNonNull("detail")).isTrue();
    }

    @Test
    void whatTheHttpLayerRefusesIsAProblemWithoutABannerAndTheServerAnswersOnAfterwards() throws Exception {
        String key = register("http").get("api_key").asText();
        String post = "POST /api/logs HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: " + key + "\r\nContent-Type: application/json\r\n";
        String body = "{\"ip\":\"192.0.2.1\",\"endpoint\":\"/http\"}";
        Map<String, String> refused = new java.util.LinkedHashMap<>();
        refused.put("Content-Length: abc", post + "Content-Length: abc\r\n\r\n" + body);
        refused.put("Content-Length: -1", post + "Content-Length: -1\r\n\r\n" + body);
        refused.put("two different Content-Length", post + "Content-Length: " + body.length() + "\r\nContent-Length: 5\r\n\r\n" + body);
        refused.put("Content-Length and chunked", post + "Content-Length: " + body.length() + "\r\nTransfer-Encoding: chunked\r\n\r\n"
                + Integer.toHexString(body.length()) + "\r\n" + body + "\r\n0\r\n\r\n");
        refused.put("a bare CR in a header", post.replace("Content-Type: application/json", "Content-Type: application/json\rX-Smuggled: 1")
                + "Content-Length: " + body.length() + "\r\n\r\n" + body);
        refused.put("an invalid request line", "POST /api/logs extra HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        for (Map.Entry<String, String> c : refused.entrySet()) {
            HttpGatewayEdgesTest.assertProblem(c.getKey(), rawExchange(runtime.port(), c.getValue(), Duration.ofSeconds(10)), 400);
        }
        // none of them reached the function; a well-formed request does
        String accepted = rawExchange(runtime.port(), post + "Content-Length: " + body.length() + "\r\nConnection: close\r\n\r\n" + body,
                Duration.ofSeconds(20));
        assertThat(accepted).startsWith("HTTP/1.1 202");
        assertThat(accepted.toLowerCase()).doesNotContain("server:");
    }

    // --- finding 7: security headers on every answer; Swagger UI safe; bounded metrics --------

    @Test
    void everyAnswerCarriesTheSecurityHeadersAndSwaggerUiCannotBeFramedNorLoadThePetstore() throws Exception {
        HttpJson local = HttpJson.uncheckedFor(runtime.baseUrl());
        String token = token(register("hdr").get("api_key").asText());
        for (String path : List.of("/docs", "/docs/swagger-ui.css", "/docs/index.html", "/openapi.json", "/metrics", "/health",
                "/health/ready", "/dashboard", "/api/usage/daily", "/nowhere")) {
            Reply r = path.startsWith("/api/") ? api.get(path, bearer(token)) : local.get(path, Map.of());
            assertSecurityHeaders(path, r.headers());
        }
        // the SSE stream, read up to its headers
        HttpResponse<java.io.InputStream> sse = RAW.send(HttpRequest.newBuilder(URI.create(runtime.baseUrl() + "/api/usage/stream"))
                .header("Authorization", "Bearer " + token).GET().build(), HttpResponse.BodyHandlers.ofInputStream());
        try {
            assertThat(sse.statusCode()).isEqualTo(200);
            assertSecurityHeaders("SSE", sse.headers().map());
        } finally {
            sse.body().close();
        }
        // Swagger UI runs no inline script and never the webjar's petstore initializer
        String page = local.get("/docs", Map.of()).body();
        assertThat(page).doesNotContain("<script>").contains("/docs/usage-tracker-init.js");
        assertThat(local.get("/docs/index.html", Map.of()).body()).isEqualTo(page);
        for (String script : List.of("/docs/usage-tracker-init.js", "/docs/swagger-initializer.js")) {
            Reply init = local.get(script, Map.of());
            assertThat(init.status()).isEqualTo(200);
            assertThat(init.body()).contains("/openapi.json").doesNotContainIgnoringCase("petstore");
        }
        assertThat(local.get("/docs", Map.of()).header("Content-Security-Policy")).contains("frame-ancestors 'none'")
                .contains("script-src 'self'").doesNotContain("unsafe-eval");
    }

    @Test
    void metricsKeepOneCounterPerRouteNotPerRawPath() throws Exception {
        HttpJson local = HttpJson.uncheckedFor(runtime.baseUrl());
        String marker = "probe" + UUID.randomUUID().toString().substring(0, 6);
        for (int i = 0; i < 25; i++) {
            local.get("/docs/" + marker + i + ".js", Map.of());
            local.get("/dashboard/" + marker + i + ".css", Map.of());
        }
        JsonNode routes = new com.fasterxml.jackson.databind.ObjectMapper().readTree(local.get("/metrics", Map.of()).body())
                .get("requests").get("by_route");
        List<String> names = new ArrayList<>();
        routes.fieldNames().forEachRemaining(names::add);
        assertThat(names).noneMatch(n -> n.contains(marker)).contains("GET /docs/*", "GET /dashboard/*");
        assertThat(routes.get("GET /docs/*").get("4xx").asLong()).isGreaterThanOrEqualTo(25);
    }

    private static void assertSecurityHeaders(String what, Map<String, List<String>> headers) {
        java.util.function.Function<String, String> h = name -> headers.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name))
                .map(e -> e.getValue().getFirst()).findFirst().orElse(null);
        assertThat(h.apply("Strict-Transport-Security")).as(what).contains("max-age=");
        assertThat(h.apply("X-Frame-Options")).as(what).isEqualTo("DENY");
        assertThat(h.apply("Content-Security-Policy")).as(what).contains("frame-ancestors 'none'");
        assertThat(h.apply("Referrer-Policy")).as(what).isEqualTo("no-referrer");
        assertThat(h.apply("X-Content-Type-Options")).as(what).isEqualTo("nosniff");
    }

    // --- helpers -------------------------------------------------------------------------------

    static JsonNode register(String prefix) {
        return api.register(prefix);
    }

    static String token(String key) {
        return api.token(key);
    }

    static Map<String, String> bearer(String token) {
        return HttpJson.bearer(token);
    }

    /** Sends raw bytes and reads what comes back until the server closes or {@code wait} passes. */
    static String rawExchange(int port, String request, Duration wait) throws Exception {
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
            socket.setSoTimeout((int) wait.toMillis());
            socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().flush();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            long end = System.nanoTime() + wait.toNanos();
            try {
                int n;
                while (System.nanoTime() < end && (n = socket.getInputStream().read(buf)) > 0) {
                    got.write(buf, 0, n);
                    String text = got.toString(StandardCharsets.ISO_8859_1);
                    int head = text.indexOf("\r\n\r\n");
                    if (head > 0) {
                        var m = java.util.regex.Pattern.compile("(?i)content-length: *(\\d+)").matcher(text.substring(0, head));
                        if (m.find() && text.length() - head - 4 >= Integer.parseInt(m.group(1))) break;
                    }
                }
            } catch (java.net.SocketTimeoutException timedOut) {
                // whatever arrived is the answer
            }
            return got.toString(StandardCharsets.UTF_8);
        }
    }
}
