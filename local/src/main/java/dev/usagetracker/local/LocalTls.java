package dev.usagetracker.local;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * The local runtime's TLS: a self-signed ECDSA P-256 certificate for localhost, 127.0.0.1 and ::1,
 * made with the JDK's keytool on first start and reused afterwards; TLS 1.2 and 1.3 only.
 */
public final class LocalTls {
    public static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

    /**
     * Forward-secret AEAD suites only: every TLS 1.3 suite, and for TLS 1.2 ECDHE with AES-GCM or
     * ChaCha20-Poly1305. CBC suites (Lucky13-style padding oracles), SHA-1 MACs, static RSA key exchange
     * and finite-field DHE are not offered (Mozilla's "intermediate" profile).
     */
    public static String[] cipherSuites(String[] supported) {
        return java.util.Arrays.stream(supported)
                .filter(s -> s.startsWith("TLS_AES_") || s.startsWith("TLS_CHACHA20_")
                        || (s.startsWith("TLS_ECDHE_") && (s.contains("_GCM_") || s.contains("_CHACHA20_POLY1305_"))))
                .filter(s -> !s.endsWith("_SHA"))
                .toArray(String[]::new);
    }

    private final Path keystore;
    private final Path certificate;
    private final SSLContext context;

    private LocalTls(Path keystore, Path certificate, SSLContext context) {
        this.keystore = keystore;
        this.certificate = certificate;
        this.context = context;
    }

    public static LocalTls loadOrCreate(Path dir) throws Exception {
        Path keystore = dir.resolve("localhost.p12");
        Path passwordFile = dir.resolve("keystore-password");
        Path certificate = dir.resolve("localhost.pem");
        if (!Files.exists(keystore) || !Files.exists(passwordFile) || !Files.exists(certificate)) {
            Files.createDirectories(dir);
            byte[] random = new byte[18];
            new SecureRandom().nextBytes(random);
            String password = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
            Files.deleteIfExists(keystore);
            Files.writeString(passwordFile, password);
            restrict(passwordFile);
            String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
            run(List.of(keytool, "-genkeypair", "-alias", "localhost", "-keyalg", "EC", "-groupname", "secp256r1",
                    "-sigalg", "SHA256withECDSA", "-validity", "825", "-storetype", "PKCS12",
                    "-keystore", keystore.toString(), "-storepass", password, "-keypass", password,
                    "-dname", "CN=localhost, O=usage-tracker local runtime",
                    "-ext", "SAN=dns:localhost,ip:127.0.0.1,ip:::1"));
            run(List.of(keytool, "-exportcert", "-rfc", "-alias", "localhost", "-keystore", keystore.toString(),
                    "-storepass", password, "-file", certificate.toString()));
            restrict(keystore);
        }
        char[] password = Files.readString(passwordFile, StandardCharsets.UTF_8).trim().toCharArray();
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keystore)) {
            ks.load(in, password);
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, password);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(kmf.getKeyManagers(), null, null);
        return new LocalTls(keystore, certificate, context);
    }

    public SSLContext context() {
        return context;
    }

    /** The PEM certificate to trust, e.g. {@code curl --cacert .local/tls/localhost.pem}. */
    public Path certificate() {
        return certificate;
    }

    public Path keystore() {
        return keystore;
    }

    private static void run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) throw new IllegalStateException("keytool failed: " + out);
    }

    private static void restrict(Path file) throws IOException {
        try {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException ignored) {
            // not a POSIX file system
        }
    }
}
