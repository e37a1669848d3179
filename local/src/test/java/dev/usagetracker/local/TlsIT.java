package dev.usagetracker.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The local runtime's HTTPS-only mode: TLS 1.2+, a certificate a client can pin, HSTS on answers. */
@ExtendWith(TestStack.Extension.class)
class TlsIT {
    static LocalRuntime runtime;
    static SSLContext trusting;

    @BeforeAll
    static void start(TestStack stack) throws Exception {
        runtime = LocalRuntime.start(new LocalRuntime.Options(TestStack.PROJECT_ROOT, "127.0.0.1", 0,
                Optional.of(stack.emulators()), Map.of(), Optional.of("tls-admin-key-0123456789"),
                Optional.of(Duration.ofMillis(200)), 2, 2, false, "tls-", 0, true));
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        try (InputStream in = Files.newInputStream(runtime.tls().orElseThrow().certificate())) {
            trust.setCertificateEntry("local", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        trusting = SSLContext.getInstance("TLS");
        trusting.init(null, tmf.getTrustManagers(), null);
    }

    @AfterAll
    static void stop() {
        if (runtime != null) runtime.close();
    }

    @Test
    void httpsOnlyServesTlsWithHstsAndNoPlainPort() throws Exception {
        assertThat(runtime.baseUrl()).startsWith("https://");
        for (String protocol : new String[] {"TLSv1.2", "TLSv1.3"}) {
            SSLParameters params = new SSLParameters();
            params.setProtocols(new String[] {protocol});
            HttpClient client = HttpClient.newBuilder().sslContext(trusting).sslParameters(params).build();
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(runtime.httpsUrl() + "/.well-known/jwks.json"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(protocol).isEqualTo(200);
            assertThat(r.headers().firstValue("Strict-Transport-Security")).hasValueSatisfying(v -> assertThat(v).contains("max-age="));
            assertThat(r.sslSession()).hasValueSatisfying(s -> assertThat(s.getProtocol()).isEqualTo(protocol));
        }
    }

    @Test
    void handshakeNegotiatesTls12OrNewer() throws Exception {
        int port = URI.create(runtime.httpsUrl()).getPort();
        try (SSLSocket socket = (SSLSocket) trusting.getSocketFactory().createSocket("127.0.0.1", port)) {
            socket.startHandshake();
            assertThat(socket.getSession().getProtocol()).isIn("TLSv1.2", "TLSv1.3");
        }
    }

    @Test
    void tls12OffersNoCbcOrSha1SuitesOnlyForwardSecretAead() throws Exception {
        int port = URI.create(runtime.httpsUrl()).getPort();
        String[] weak = java.util.Arrays.stream(trusting.getSupportedSSLParameters().getCipherSuites())
                .filter(s -> s.contains("_CBC_") || s.endsWith("_SHA")).toArray(String[]::new);
        assertThat(weak).isNotEmpty();
        for (String suite : weak) {
            try (SSLSocket socket = (SSLSocket) trusting.getSocketFactory().createSocket("127.0.0.1", port)) {
                socket.setEnabledProtocols(new String[] {"TLSv1.2"});
                socket.setEnabledCipherSuites(new String[] {suite});
                assertThat(org.assertj.core.api.Assertions.catchThrowable(socket::startHandshake)).as(suite)
                        .isInstanceOf(java.io.IOException.class);
            }
        }
        try (SSLSocket socket = (SSLSocket) trusting.getSocketFactory().createSocket("127.0.0.1", port)) {
            socket.setEnabledProtocols(new String[] {"TLSv1.2"});
            socket.startHandshake();
            assertThat(socket.getSession().getCipherSuite()).startsWith("TLS_ECDHE_").containsAnyOf("_GCM_", "_CHACHA20_");
        }
    }
}
