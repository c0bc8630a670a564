package dev.pgpolicy.proxy.enforce;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.pgpolicy.lang.LimitKind;
import dev.pgpolicy.policy.EffectiveLimit;
import dev.pgpolicy.policy.LimitScope;
import dev.pgpolicy.proxy.session.SessionInfo;
import dev.pgpolicy.proxy.wire.ErrorResponse;
import dev.pgpolicy.proxy.wire.SqlState;
import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The counting limits of LANGUAGE.md ("LIMIT") shared by every session of the proxy: queries per
 * second (token buckets, refilled continuously, so only the excess is refused), connections and
 * concurrently running statements.
 * Counters are keyed by (rule id, scope, subject): the user, the client address, or for
 * {@code per role} everyone the rule applies to.
 */
final class Throttles {

    private record Key(String ruleId, LimitScope scope, String subject) {
    }

    /**
     * A statement refused by a limit: the error the client gets and the id of the limit rule, which
     * the audit record names in its {@code rules} field as a denial names its deny rule.
     */
    record Refusal(String ruleId, ErrorResponse error) {
    }

    /** Buckets of subjects that stopped sending are dropped; a new bucket starts full, which is what it would be by then. */
    /** Maintenance on the calling thread: the default wakes a ForkJoinPool worker every few statements. */
    private final Cache<Key, Bucket> buckets = Caffeine.newBuilder().expireAfterAccess(Duration.ofMinutes(10))
            .executor(Runnable::run).build();
    private final ConcurrentHashMap<Key, Integer> connections = new ConcurrentHashMap<>();
    /** Statements running under {@code concurrent} limits. */
    private final ConcurrentHashMap<Key, Integer> running = new ConcurrentHashMap<>();

    /** Takes one query from every queries-per-second limit in force; the error when one is exhausted. */
    Optional<Refusal> tryQuery(SessionInfo session, List<EffectiveLimit> limits) {
        for (EffectiveLimit limit : limits) {
            if (limit.kind() != LimitKind.QUERIES_PER_SECOND) {
                continue;
            }
            Key key = key(limit, session);
            Bucket bucket = buckets.get(key, k -> Bucket.builder()
                    .addLimit(Bandwidth.builder().capacity(limit.amount())
                            .refillGreedy(limit.amount(), Duration.ofSeconds(1)).build())
                    .build());
            if (!bucket.tryConsume(1)) {
                return Optional.of(new Refusal(limit.ruleId(), ErrorResponse.of(ErrorResponse.SEVERITY_ERROR,
                        SqlState.CONFIGURATION_LIMIT_EXCEEDED,
                        "pgpolicy: query rate limit exceeded by rule \"" + limit.ruleId() + "\"",
                        "at most " + limit.amount() + " queries per second per " + limit.scope().keyword())));
            }
        }
        return Optional.empty();
    }

    /**
     * Counts a new session against the connection limits in force; PostgreSQL's own answer to too
     * many connections (53300, FATAL) when one is full. On success the returned handle releases
     * the counts when the session ends.
     */
    Optional<ErrorResponse> tryConnect(SessionInfo session, List<EffectiveLimit> limits, List<Runnable> releases) {
        for (EffectiveLimit limit : limits) {
            if (limit.kind() != LimitKind.CONNECTIONS) {
                continue;
            }
            Key key = key(limit, session);
            if (!tryTake(connections, key, limit.amount())) {
                releases.forEach(Runnable::run);
                releases.clear();
                String who = limit.scope() == LimitScope.CLIENT_IP ? "client address " + key.subject()
                        : limit.scope() == LimitScope.USER ? "role \"" + key.subject() + "\"" : "rule " + limit.ruleId();
                return Optional.of(ErrorResponse.of(ErrorResponse.SEVERITY_FATAL, SqlState.TOO_MANY_CONNECTIONS,
                        "too many connections for " + who,
                        "pgpolicy rule \"" + limit.ruleId() + "\" allows " + limit.amount() + " connections per "
                                + limit.scope().keyword()));
            }
            releases.add(() -> release(connections, key));
        }
        return Optional.empty();
    }

    /**
     * The {@code concurrent N per user|role} limits: a session holding slots counts as running a
     * statement. It takes one slot of each such limit in force when it forwards a statement while
     * holding none, and gives them all back when it has nothing in flight any more or ends.
     * The excess statement is refused with 53400 and takes no slot; the session goes on.
     */
    Optional<Refusal> tryRun(SessionInfo session, List<EffectiveLimit> limits, RunningSlots slots) {
        synchronized (slots) {
            if (slots.releases != null) {
                return Optional.empty(); // already running: the statement is part of the same work
            }
            List<Runnable> releases = new ArrayList<>();
            for (EffectiveLimit limit : limits) {
                if (limit.kind() != LimitKind.CONCURRENT) {
                    continue;
                }
                Key key = key(limit, session);
                if (!tryTake(running, key, limit.amount())) {
                    releases.forEach(Runnable::run);
                    return Optional.of(new Refusal(limit.ruleId(), ErrorResponse.of(ErrorResponse.SEVERITY_ERROR,
                            SqlState.CONFIGURATION_LIMIT_EXCEEDED,
                            "pgpolicy: too many concurrent statements, the limit of rule \"" + limit.ruleId() + "\"",
                            "at most " + limit.amount() + " statements may run at once per " + limit.scope().keyword())));
                }
                releases.add(() -> release(running, key));
            }
            if (!releases.isEmpty()) {
                slots.releases = releases;
            }
            return Optional.empty();
        }
    }

    /** Slots of {@code concurrent} limits held now, over every limit and subject: zero when nothing runs. */
    int runningStatements() {
        return running.values().stream().mapToInt(Integer::intValue).sum();
    }

    /**
     * Counts one more for {@code key} unless it already has {@code max}. Checking and counting in
     * one atomic step per key: a count read and then increased could meet a release that removed
     * the entry at zero in between, and the increase would be lost.
     */
    private static boolean tryTake(ConcurrentHashMap<Key, Integer> counts, Key key, long max) {
        boolean[] taken = new boolean[1];
        counts.compute(key, (k, count) -> {
            int current = count == null ? 0 : count;
            if (current >= max) {
                return count;
            }
            taken[0] = true;
            return current + 1;
        });
        return taken[0];
    }

    private static void release(ConcurrentHashMap<Key, Integer> counts, Key key) {
        counts.computeIfPresent(key, (k, count) -> count <= 1 ? null : count - 1);
    }

    /**
     * The slots one session holds (see {@link #tryRun}). Taken by a decision worker, given back
     * on the session's event loop or when it closes: guarded by its own monitor, and giving back
     * twice is harmless.
     */
    static final class RunningSlots {
        private List<Runnable> releases;

        void release() {
            List<Runnable> held;
            synchronized (this) {
                held = releases;
                releases = null;
            }
            if (held != null) {
                held.forEach(Runnable::run);
            }
        }
    }

    private static Key key(EffectiveLimit limit, SessionInfo session) {
        switch (limit.scope()) {
            case USER:
                return new Key(limit.ruleId(), limit.scope(), session.user().orElse(""));
            case CLIENT_IP: {
                InetSocketAddress address = session.clientAddress();
                return new Key(limit.ruleId(), limit.scope(),
                        address == null ? "" : address.getAddress().getHostAddress());
            }
            case ROLE:
            case NONE:
                return new Key(limit.ruleId(), limit.scope(), "");
        }
        throw new AssertionError(limit.scope());
    }
}
