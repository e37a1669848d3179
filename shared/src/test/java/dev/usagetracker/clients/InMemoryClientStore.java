package dev.usagetracker.clients;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The test double of {@link ClientStore} for pure-logic unit tests: the same uniqueness and key rules
 * as the DynamoDB store (which its integration tests prove against moto), in memory, with counters.
 */
public final class InMemoryClientStore implements ClientStore {
    /** Every accepted registration, in order, exactly as the store received it. */
    public final List<NewClient> created = new ArrayList<>();
    /** Client ids refused by a simulated collision. */
    public final List<String> rejectedClientIds = new ArrayList<>();
    /** How many of the next creates fail as if their client id were taken. */
    public int clientIdCollisionsToSimulate;
    /** How many times a key hash was looked up. */
    public int lookups;

    private final Clock clock;
    private final Map<String, Client> clients = new LinkedHashMap<>();
    private final Map<String, String> ownerByKeyHash = new HashMap<>();
    private final Map<String, String> currentKeyHash = new HashMap<>();
    private final Map<String, Instant> keyValidUntil = new HashMap<>();
    private final Map<String, String> emailHashes = new HashMap<>();

    public InMemoryClientStore() {
        this(Clock.systemUTC());
    }

    public InMemoryClientStore(Clock clock) {
        this.clock = clock;
    }

    /** Puts a client straight in, answering to {@code keyHash}. */
    public void add(String keyHash, Client client) {
        clients.put(client.clientId(), client);
        ownerByKeyHash.put(keyHash, client.clientId());
        currentKeyHash.put(client.clientId(), keyHash);
    }

    /** Puts a client straight in, with no key. */
    public void add(Client client) {
        clients.put(client.clientId(), client);
    }

    @Override
    public void create(NewClient c) {
        if (clientIdCollisionsToSimulate > 0) {
            clientIdCollisionsToSimulate--;
            rejectedClientIds.add(c.clientId());
            throw new DuplicateClientException(Conflict.CLIENT_ID);
        }
        if (clients.containsKey(c.clientId())) throw new DuplicateClientException(Conflict.CLIENT_ID);
        if (emailHashes.containsKey(c.emailHash())) throw new DuplicateClientException(Conflict.EMAIL);
        if (ownerByKeyHash.containsKey(c.apiKeyHash())) throw new DuplicateClientException(Conflict.API_KEY);
        emailHashes.put(c.emailHash(), c.clientId());
        add(c.apiKeyHash(), new Client(c.clientId(), c.name(), c.role(), c.allowedIps(), c.createdAt()));
        created.add(c);
    }

    @Override
    public Optional<Client> findByApiKeyHash(String apiKeyHash) {
        lookups++;
        String owner = ownerByKeyHash.get(apiKeyHash);
        if (owner == null) return Optional.empty();
        Instant until = keyValidUntil.get(apiKeyHash);
        boolean current = apiKeyHash.equals(currentKeyHash.get(owner));
        if (!current && (until == null || !clock.instant().isBefore(until))) return Optional.empty();
        return find(owner);
    }

    @Override
    public Optional<Client> find(String clientId) {
        return Optional.ofNullable(clients.get(clientId));
    }

    @Override
    public List<Client> list() {
        return clients.values().stream().sorted(Comparator.comparing(Client::clientId)).toList();
    }

    @Override
    public Map<String, String> names(Collection<String> clientIds) {
        Map<String, String> names = new HashMap<>();
        clientIds.forEach(id -> find(id).ifPresent(c -> names.put(id, c.name())));
        return names;
    }

    @Override
    public void replaceApiKey(String clientId, String newApiKeyHash, byte[] newApiKeyCiphertext) {
        String old = currentKeyHash.get(clientId);
        if (old != null) ownerByKeyHash.remove(old);
        ownerByKeyHash.put(newApiKeyHash, clientId);
        currentKeyHash.put(clientId, newApiKeyHash);
    }

    @Override
    public void rotateApiKey(String clientId, String currentApiKeyHash, String newApiKeyHash, byte[] newApiKeyCiphertext,
                             Instant previousValidUntil) {
        if (!currentApiKeyHash.equals(currentKeyHash.get(clientId))) throw new DuplicateClientException(Conflict.API_KEY);
        ownerByKeyHash.put(newApiKeyHash, clientId);
        currentKeyHash.put(clientId, newApiKeyHash);
        keyValidUntil.put(currentApiKeyHash, previousValidUntil);
    }

    @Override
    public Optional<String> currentApiKeyHash(String clientId) {
        return Optional.ofNullable(currentKeyHash.get(clientId));
    }

    @Override
    public void updateAllowedIps(String clientId, List<String> allowedIps) {
        Client c = clients.get(clientId);
        clients.put(clientId, new Client(c.clientId(), c.name(), c.role(), List.copyOf(allowedIps), c.createdAt()));
    }
}
