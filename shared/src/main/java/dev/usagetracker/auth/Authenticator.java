package dev.usagetracker.auth;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.usagetracker.clients.Client;
import dev.usagetracker.clients.ClientStore;
import dev.usagetracker.crypto.KeyHasher;
import dev.usagetracker.http.ApiException;
import dev.usagetracker.http.HttpRequest;
import java.time.Duration;
import java.util.Optional;

/**
 * Turns the credentials on a request into a {@link Principal}: an API key (looked up by its keyed
 * hash, never by plaintext) or a bearer access token. Clients are cached per container for a minute,
 * so a warm container authenticates a known key without a database read.
 */
public final class Authenticator {
    public static final String API_KEY_HEADER = "X-API-Key";

    private final ClientStore clients;
    private final KeyHasher hasher;
    private final TokenService tokens;
    private final Cache<String, Optional<Client>> byKeyHash = Caffeine.newBuilder()
            .maximumSize(10_000)
            .expireAfterWrite(Duration.ofSeconds(60))
            .build();

    public Authenticator(ClientStore clients, KeyHasher hasher, TokenService tokens) {
        this.clients = clients;
        this.hasher = hasher;
        this.tokens = tokens;
    }

    /** For routes that take an API key: the header, else the key from the body (the original brief's way). */
    public Principal apiKey(HttpRequest request, Optional<String> keyFromBody) {
        String key = request.header(API_KEY_HEADER).or(() -> keyFromBody).orElseThrow(() ->
                ApiException.unauthorized("Send your API key in the X-API-Key header."));
        return principal(clientForKey(key));
    }

    /** For routes that take either credential (POST /api/logs): API key first, then bearer token. */
    public Principal apiKeyOrBearer(HttpRequest request, Optional<String> keyFromBody) {
        if (request.header(API_KEY_HEADER).isPresent() || keyFromBody.isPresent()) {
            return apiKey(request, keyFromBody);
        }
        return bearer(request);
    }

    public Principal bearer(HttpRequest request) {
        String header = request.header("Authorization").orElseThrow(() ->
                ApiException.unauthorized("Send an access token: Authorization: Bearer <token> (POST /api/token)."));
        if (header.length() < 8 || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw ApiException.unauthorized("The Authorization header must use the Bearer scheme.");
        }
        return tokens.verify(header.substring(7).trim());
    }

    public Client clientForKey(String key) {
        if (!ApiKeys.isPlausible(key)) {
            throw ApiException.unauthorized("The API key is invalid.");
        }
        String hash = hasher.hash(ApiKeys.HASH_PURPOSE, key);
        Optional<Client> client = byKeyHash.get(hash, clients::findByApiKeyHash);
        if (client.isEmpty()) {
            byKeyHash.invalidate(hash); // a key registered a moment later must work at once
            throw ApiException.unauthorized("The API key is invalid.");
        }
        return client.get();
    }

    private static Principal principal(Client client) {
        return new Principal(client.clientId(), client.role(), Principal.scopesFor(client.role()), client.plan());
    }
}
