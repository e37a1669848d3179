package dev.usagetracker.clients;

import dev.usagetracker.auth.ApiKeys;
import dev.usagetracker.auth.Role;
import dev.usagetracker.crypto.FieldCipher;
import dev.usagetracker.crypto.KeyHasher;
import dev.usagetracker.http.ApiException;
import dev.usagetracker.http.ApiException.FieldError;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/** Registers client applications: validates, mints the API key, encrypts and stores. */
public final class RegistrationService {
    public static final String EMAIL_HASH_PURPOSE = "email";
    static final Pattern CLIENT_ID = Pattern.compile("[a-z0-9_-]{3,64}");
    private static final int MAX_ALLOWED_IPS = 50;
    private static final String SUFFIX_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789";
    private static final SecureRandom RANDOM = dev.usagetracker.config.Entropy.random(); // restore-safe (SnapStart)

    private final ClientStore store;
    private final KeyHasher hasher;
    private final FieldCipher cipher;
    private final Clock clock;

    public RegistrationService(ClientStore store, KeyHasher hasher, FieldCipher cipher, Clock clock) {
        this.store = store;
        this.hasher = hasher;
        this.cipher = cipher;
        this.clock = clock;
    }

    /**
     * The one answer to every registration conflict (email taken, client_id taken, client_id reserved):
     * telling them apart would say which addresses have an account (docs/security.md, enumeration).
     */
    public static final String CONFLICT_DETAIL =
            "The registration conflicts with an existing client; choose another client_id, or use the existing client's key.";

    public RegisteredClient register(Registration request) {
        return register(request, emailHash -> { });
    }

    /**
     * Registers, after handing the email's lookup HMAC to {@code attemptOnEmail} (the per-address
     * rate limit): every valid attempt on an address counts, conflicts included.
     */
    public RegisteredClient register(Registration request, java.util.function.Consumer<String> attemptOnEmail) {
        List<FieldError> errors = new ArrayList<>();
        // Names and emails are validated as Unicode (DisplayName, EmailAddress; docs/security.md).
        DisplayName.Result checkedName = DisplayName.check(request.name());
        if (!checkedName.ok()) errors.add(new FieldError("name", checkedName.violation()));
        String name = checkedName.name();
        String email = request.email() == null ? null : request.email().strip();
        if (email == null || email.isEmpty()) errors.add(new FieldError("email", "is required"));
        else {
            var normalized = EmailAddress.normalize(email);
            if (normalized.isEmpty()) errors.add(new FieldError("email", "must be a valid email address (local-part@domain, see the API docs)"));
            else email = normalized.get();
        }
        if (request.clientId() != null && !CLIENT_ID.matcher(request.clientId()).matches()) {
            errors.add(new FieldError("client_id", "must match [a-z0-9_-]{3,64}"));
        } else if (ReservedNames.isReservedClientId(request.clientId())) {
            errors.add(new FieldError("client_id", "must not start with 'admin' or a lookalike of it (reserved)"));
        }
        if (checkedName.ok() && ReservedNames.isReservedName(name)) {
            errors.add(new FieldError("name", "must not read as 'admin' (reserved)"));
        }
        List<String> allowedIps = new ArrayList<>();
        if (request.allowedIps() != null) {
            if (request.allowedIps().size() > MAX_ALLOWED_IPS) {
                errors.add(new FieldError("allowed_ips", "must have at most " + MAX_ALLOWED_IPS + " entries"));
            } else {
                for (int i = 0; i < request.allowedIps().size(); i++) {
                    int index = i;
                    Cidr.normalize(request.allowedIps().get(i)).ifPresentOrElse(allowedIps::add,
                            () -> errors.add(new FieldError("allowed_ips[" + index + "]", "must be an IPv4 or IPv6 address or CIDR block")));
                }
            }
        }
        if (!errors.isEmpty()) throw ApiException.validation(errors);

        String emailHash = hasher.hash(EMAIL_HASH_PURPOSE, email.toLowerCase(Locale.ROOT));
        attemptOnEmail.accept(emailHash);
        if (AdminBootstrap.ADMIN_CLIENT_ID.equals(request.clientId())) {
            throw ApiException.conflict(CONFLICT_DETAIL); // reserved for the bootstrapped admin
        }
        String clientId = request.clientId() != null ? request.clientId() : generateClientId(name);
        Instant createdAt = clock.instant().truncatedTo(ChronoUnit.MILLIS);
        for (int attempt = 0; ; attempt++) {
            String apiKey = ApiKeys.generate();
            try {
                create(clientId, name, Role.CLIENT, allowedIps, createdAt, email, emailHash, apiKey);
                return new RegisteredClient(clientId, name, email, apiKey, createdAt.toString());
            } catch (ClientStore.DuplicateClientException e) {
                switch (e.conflict()) {
                    case EMAIL -> throw ApiException.conflict(CONFLICT_DETAIL);
                    case CLIENT_ID -> {
                        if (request.clientId() != null || attempt >= 3) {
                            throw ApiException.conflict(CONFLICT_DETAIL);
                        }
                        clientId = generateClientId(name);
                    }
                    case API_KEY -> {
                        if (attempt >= 3) throw e; // 256-bit keys do not collide; a loop here means a bug
                    }
                }
            }
        }
    }

    /** Writes a client with a given key; also used to bootstrap the admin from ADMIN_API_KEY. */
    public void create(String clientId, String name, Role role, List<String> allowedIps, Instant createdAt,
                       String email, String apiKey) {
        create(clientId, name, role, allowedIps, createdAt, email, hasher.hash(EMAIL_HASH_PURPOSE, email.toLowerCase(Locale.ROOT)), apiKey);
    }

    private void create(String clientId, String name, Role role, List<String> allowedIps, Instant createdAt,
                        String email, String emailHash, String apiKey) {
        store.create(new NewClient(clientId, name, role, allowedIps, createdAt,
                emailHash,
                cipher.encrypt(email.getBytes(StandardCharsets.UTF_8), clientId),
                hasher.hash(ApiKeys.HASH_PURPOSE, apiKey),
                cipher.encrypt(apiKey.getBytes(StandardCharsets.UTF_8), clientId)));
    }

    static String generateClientId(String name) {
        String slug = name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("(^-+|-+$)", "");
        if (slug.length() > 40) slug = slug.substring(0, 40).replaceAll("-+$", "");
        if (slug.length() < 3 || ReservedNames.isReservedClientId(slug)) slug = "client";
        StringBuilder sb = new StringBuilder(slug).append('-');
        for (int i = 0; i < 6; i++) sb.append(SUFFIX_ALPHABET.charAt(RANDOM.nextInt(SUFFIX_ALPHABET.length())));
        return sb.toString();
    }
}
