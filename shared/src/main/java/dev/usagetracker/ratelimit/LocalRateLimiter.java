package dev.usagetracker.ratelimit;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The same sliding windows as the Redis script, in this container's memory: the fallback while Redis is
 * down. Each container enforces {@code quota / expected containers}, so the total stays near the quota
 * when traffic spreads evenly, but it is approximate by nature: more containers than expected, or
 * uneven spreading, let more through; a client pinned to one container gets less.
 */
public final class LocalRateLimiter implements RateLimiter {
    private final Clock clock;
    private final int containers;
    private final Cache<String, Subject> subjects;

    public LocalRateLimiter(Clock clock, int containers, Duration longestWindow) {
        this.clock = clock;
        this.containers = containers;
        this.subjects = Caffeine.newBuilder().maximumSize(100_000).expireAfterAccess(longestWindow).build();
    }

    @Override
    public Decision acquire(String subject, List<Charge> charges) {
        List<Charge> shares = charges.stream().map(c -> new Charge(c.limit().share(containers), c.cost(), c.dimension())).toList();
        Subject state = subjects.get(subject, k -> new Subject());
        synchronized (state) {
            return state.acquire(clock.millis(), shares);
        }
    }

    /** One subject's windows: slot number → units, per dimension and window length. */
    private static final class Subject {
        private final Map<String, TreeMap<Long, Long>> windows = new HashMap<>();

        Decision acquire(long now, List<Charge> charges) {
            List<Limit> limits = charges.stream().map(Charge::limit).toList();
            long[] used = new long[limits.size()];
            boolean allowed = true;
            for (int i = 0; i < limits.size(); i++) {
                Limit l = limits.get(i);
                long cost = charges.get(i).cost();
                TreeMap<Long, Long> slots = windows.computeIfAbsent(charges.get(i).stateKey(), k -> new TreeMap<>());
                long current = now / l.slotMillis();
                slots.headMap(current - l.slots() + 1).clear();
                used[i] = slots.values().stream().mapToLong(Long::longValue).sum();
                if (used[i] + cost > l.quota()) allowed = false;
            }
            List<Decision.WindowState> states = new ArrayList<>();
            long retryAfter = 0;
            for (int i = 0; i < limits.size(); i++) {
                Limit l = limits.get(i);
                long cost = charges.get(i).cost();
                TreeMap<Long, Long> slots = windows.get(charges.get(i).stateKey());
                long current = now / l.slotMillis();
                if (allowed) {
                    slots.merge(current, cost, Long::sum);
                    used[i] += cost;
                }
                boolean exceeded = !allowed && used[i] + cost > l.quota();
                if (exceeded) retryAfter = Math.max(retryAfter, retryMillis(now, l, slots, used[i] + cost - l.quota(), cost));
                long reset = slots.isEmpty() ? 0 : (slots.firstKey() + l.slots()) * l.slotMillis() - now;
                states.add(new Decision.WindowState(l, Math.max(0, l.quota() - used[i]), reset, exceeded));
            }
            return new Decision(allowed ? Decision.Outcome.ALLOWED : Decision.Outcome.LIMITED, limits, states,
                    retryAfter, Decision.Source.LOCAL);
        }

        private static long retryMillis(long now, Limit l, TreeMap<Long, Long> slots, long need, long cost) {
            if (cost > l.quota()) return l.windowMillis();
            long freed = 0;
            for (Map.Entry<Long, Long> e : slots.entrySet()) {
                freed += e.getValue();
                if (freed >= need) return (e.getKey() + l.slots()) * l.slotMillis() - now;
            }
            return l.windowMillis();
        }
    }
}
