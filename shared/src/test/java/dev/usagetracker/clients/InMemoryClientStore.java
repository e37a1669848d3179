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

    /** Revocation state per client (disabled, status, tokens_valid_after, version) beyond what the maps hold. */
    private final Map<String, Credentials> state = new HashMap<>();

    @Override
    public Optional<Client> find(String clientId) {
        Client c = clients.get(clientId);
        if (c == null) return Optional.empty();
        Credentials s = state.getOrDefault(clientId, Credentials.NONE);
        String current = currentKeyHash.get(clientId);
        // the previous key: the one still valid until a recorded instant, if any
        String previous = null;
        long until = 0;
        for (var e : keyValidUntil.entrySet()) {
            if (clientId.equals(ownerByKeyHash.get(e.getKey())) && !e.getKey().equals(current)) {
                previous = e.getKey();
                until = e.getValue().getEpochSecond();
            }
        }
        return Optional.of(c.withCredentials(new Credentials(Credentials.keyId(current), Credentials.keyId(previous), until,
                s.disabled(), s.status(), s.tokensValidAfter(), s.version())));
    }

    /** Sets a client's revocation state by hand, as an admin change or an erasure would. */
    public void setState(String clientId, boolean disabled, String status, long tokensValidAfter) {
        long version = state.getOrDefault(clientId, Credentials.NONE).version() + 1;
        state.put(clientId, new Credentials(null, null, 0, disabled, status, tokensValidAfter, version));
    }

    @Override
    public Optional<Client> markErasing(String clientId, Instant now) {
        if (!clients.containsKey(clientId)) return Optional.empty();
        Credentials s = state.getOrDefault(clientId, Credentials.NONE);
        setState(clientId, s.disabled(), Credentials.ERASING, now.getEpochSecond() + 1);
        return find(clientId);
    }

    /** Drops the client entirely, as a finished erasure does. */
    public void remove(String clientId) {
        clients.remove(clientId);
        state.remove(clientId);
    }

    @Override
    public Optional<Client> administer(String clientId, AdminChange change, Instant now) {
        Client c = clients.get(clientId);
        if (c == null) return Optional.empty();
        Credentials s = state.getOrDefault(clientId, Credentials.NONE);
        boolean disabled = change.disabled().orElse(s.disabled());
        long tva = change.disabled().orElse(false) ? now.getEpochSecond() + 1 : s.tokensValidAfter();
        clients.put(clientId, new Client(c.clientId(), c.name(), c.role(), change.allowedIps().map(List::copyOf).orElse(c.allowedIps()),
                c.createdAt(), change.plan().orElse(c.plan())));
        state.put(clientId, new Credentials(null, null, 0, disabled, s.status(), tva, s.version() + 1));
        return find(clientId);
    }

    @Override
    public Optional<byte[]> emailCiphertext(String clientId) {
        return created.stream().filter(n -> n.clientId().equals(clientId)).map(NewClient::emailCiphertext).findFirst();
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
        keyValidUntil.keySet().removeIf(h -> clientId.equals(ownerByKeyHash.get(h)));
        keyValidUntil.put(currentApiKeyHash, previousValidUntil);
        bump(clientId);
    }

    private void bump(String clientId) {
        Credentials s = state.getOrDefault(clientId, Credentials.NONE);
        state.put(clientId, new Credentials(null, null, 0, s.disabled(), s.status(), s.tokensValidAfter(), s.version() + 1));
    }

    @Override
    public Optional<String> currentApiKeyHash(String clientId) {
        return Optional.ofNullable(currentKeyHash.get(clientId));
    }

    @Override
    public void updateAllowedIps(String clientId, List<String> allowedIps) {
        Client c = clients.get(clientId);
        clients.put(clientId, new Client(c.clientId(), c.name(), c.role(), List.copyOf(allowedIps), c.createdAt(), c.plan()));
        bump(clientId);
    }
}
