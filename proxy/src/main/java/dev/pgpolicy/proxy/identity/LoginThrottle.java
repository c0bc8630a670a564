package dev.pgpolicy.proxy.identity;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.Ticker;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Slows down and then refuses repeated failed logins, counted separately per client address and
 * per user name (so neither one address guessing many users nor many addresses guessing one user
 * gets unlimited tries):
 * <ul>
 *   <li>up to {@code failuresBeforeDelay} failures within {@code window}: no delay;</li>
 *   <li>beyond that, each attempt is delayed {@code baseDelay * 2^(failures - failuresBeforeDelay)},
 *       capped at {@code maxDelay};</li>
 *   <li>at {@code failuresBeforeLockout} failures the key is refused for {@code lockout}, then
 *       released with a clean slate.</li>
 * </ul>
 * The session asks {@link #check} before authenticating and reports the outcome with
 * {@link #recordFailure} or {@link #recordSuccess}; it applies a delay by scheduling on its event
 * loop, never by sleeping. Unknown user names are counted like real ones, so the throttle does not
 * reveal which names exist.
 *
 * <p>Memory is bounded: state lives in a Caffeine cache with a size limit and per-entry expiry at
 * the end of the window or lockout. Updates are atomic per key ({@code asMap().compute}). Time
 * comes from a {@link Ticker} so tests can move it.
 */
public final class LoginThrottle {
    private static final Logger log = LoggerFactory.getLogger(LoginThrottle.class);

    /** The limits; {@link #defaults()} suits an interactive login service. */
    public record Limits(int failuresBeforeDelay, Duration window, Duration baseDelay, Duration maxDelay,
                         int failuresBeforeLockout, Duration lockout, long maxTrackedKeys) {
        public Limits {
            if (failuresBeforeDelay < 0 || failuresBeforeLockout < 1 || failuresBeforeLockout < failuresBeforeDelay) {
                throw new IllegalArgumentException("need 0 <= failuresBeforeDelay <= failuresBeforeLockout, lockout >= 1");
            }
            for (Duration d : new Duration[] {window, baseDelay, maxDelay, lockout}) {
                if (d == null || d.isNegative()) {
                    throw new IllegalArgumentException("durations must be non-negative");
                }
            }
            if (window.isZero() || lockout.isZero()) {
                throw new IllegalArgumentException("window and lockout must be positive");
            }
            if (maxTrackedKeys < 1) {
                throw new IllegalArgumentException("maxTrackedKeys must be positive");
            }
        }

        /**
         * 5 free failures per 15 minutes, then 0.25 s doubling up to 8 s, refused for 15 minutes
         * at 20. Up to 100,000 keys (a few MB) hold the state of a large brute-force attempt.
         */
        public static Limits defaults() {
            return new Limits(5, Duration.ofMinutes(15), Duration.ofMillis(250), Duration.ofSeconds(8),
                    20, Duration.ofMinutes(15), 100_000);
        }
    }

    /** The answer to {@link #check}. */
    public sealed interface Decision permits Allow, Refuse {
    }

    /** Go ahead after {@code delay} (zero: at once). */
    public record Allow(Duration delay) implements Decision {
        static final Allow NOW = new Allow(Duration.ZERO);
    }

    /**
     * Refuse without authenticating; {@code key} says what is locked ("client 10.1.2.3" or
     * "user ana") for the log line, not for the client.
     */
    public record Refuse(Duration retryAfter, String key) implements Decision {
    }

    /** Running totals for metrics. */
    public record Counters(long failures, long delayed, long refused, long lockouts, long trackedKeys) {
    }

    enum Kind {
        CLIENT,
        USER
    }

    record Key(Kind kind, String value) {
        @Override
        public String toString() {
            return kind.name().toLowerCase(java.util.Locale.ROOT) + " " + value;
        }
    }

    /** Failures since {@code windowStart}; locked until {@code lockedUntil} when that is set. */
    record State(int failures, long windowStart, long lockedUntil, boolean locked) {
    }

    private final Limits limits;
    private final Ticker ticker;
    private final Cache<Key, State> states;
    private final LongAdder failures = new LongAdder();
    private final LongAdder delayed = new LongAdder();
    private final LongAdder refused = new LongAdder();
    private final LongAdder lockouts = new LongAdder();

    public LoginThrottle(Limits limits) {
        this(limits, Ticker.systemTicker());
    }

    LoginThrottle(Limits limits, Ticker ticker) {
        this.limits = Objects.requireNonNull(limits, "limits");
        this.ticker = Objects.requireNonNull(ticker, "ticker");
        this.states = Caffeine.newBuilder()
                .maximumSize(limits.maxTrackedKeys())
                .expireAfter(new Expiry<Key, State>() {
                    @Override
                    public long expireAfterCreate(Key key, State state, long now) {
                        return remaining(state, now);
                    }

                    @Override
                    public long expireAfterUpdate(Key key, State state, long now, long currentDuration) {
                        return remaining(state, now);
                    }

                    @Override
                    public long expireAfterRead(Key key, State state, long now, long currentDuration) {
                        return currentDuration;
                    }
                })
                .ticker(ticker)
                // Maintenance on the calling thread: no background pool, deterministic in tests.
                .executor(Runnable::run)
                .build();
    }

    public Limits limits() {
        return limits;
    }

    /** Whether a login attempt from {@code client} for {@code user} may proceed, and when. */
    public Decision check(InetAddress client, String user) {
        long now = ticker.read();
        Decision byClient = decide(clientKey(client), now);
        Decision byUser = decide(userKey(user), now);
        Decision decision;
        if (byClient instanceof Refuse || byUser instanceof Refuse) {
            Refuse a = byClient instanceof Refuse r ? r : null;
            Refuse b = byUser instanceof Refuse r ? r : null;
            decision = a == null ? b : b == null ? a : a.retryAfter().compareTo(b.retryAfter()) >= 0 ? a : b;
            refused.increment();
        } else {
            Duration delay = max(((Allow) byClient).delay(), ((Allow) byUser).delay());
            decision = delay.isZero() ? Allow.NOW : new Allow(delay);
            if (!delay.isZero()) {
                delayed.increment();
            }
        }
        return decision;
    }

    public void recordFailure(InetAddress client, String user) {
        failures.increment();
        long now = ticker.read();
        fail(clientKey(client), now);
        fail(userKey(user), now);
    }

    /**
     * A successful login clears the user's count (its owner mistyped, then got it right). The
     * address count stays: otherwise an attacker holding one valid account could reset its
     * address between guesses at other accounts.
     */
    public void recordSuccess(InetAddress client, String user) {
        states.invalidate(userKey(user));
    }

    public Counters counters() {
        states.cleanUp();
        return new Counters(failures.sum(), delayed.sum(), refused.sum(), lockouts.sum(), states.estimatedSize());
    }

    private Decision decide(Key key, long now) {
        State state = states.getIfPresent(key);
        if (state == null) {
            return Allow.NOW;
        }
        if (state.locked()) {
            return now < state.lockedUntil() ? new Refuse(Duration.ofNanos(state.lockedUntil() - now), key.toString())
                    : Allow.NOW;
        }
        if (now - state.windowStart() >= limits.window().toNanos()) {
            return Allow.NOW;
        }
        int excess = state.failures() - limits.failuresBeforeDelay();
        if (excess < 0) {
            return Allow.NOW;
        }
        // baseDelay * 2^excess, capped; the shift is bounded so it cannot overflow.
        long base = limits.baseDelay().toNanos();
        long cap = limits.maxDelay().toNanos();
        long delay = excess >= 62 || base > (cap >> Math.min(excess, 62)) ? cap : Math.min(cap, base << excess);
        return delay == 0 ? Allow.NOW : new Allow(Duration.ofNanos(delay));
    }

    private void fail(Key key, long now) {
        states.asMap().compute(key, (k, state) -> {
            if (state == null
                    || (state.locked() && now >= state.lockedUntil())
                    || (!state.locked() && now - state.windowStart() >= limits.window().toNanos())) {
                state = new State(0, now, 0, false);
            }
            if (state.locked()) {
                // Attempts during a lockout do not extend it: it ends when announced.
                return state;
            }
            int count = state.failures() + 1;
            if (count >= limits.failuresBeforeLockout()) {
                lockouts.increment();
                log.warn("login throttle: refusing {} for {} after {} failed logins", k, limits.lockout(), count);
                return new State(count, state.windowStart(), now + limits.lockout().toNanos(), true);
            }
            if (count == limits.failuresBeforeDelay() + 1) {
                log.info("login throttle: delaying further logins of {} after {} failures", k, count);
            }
            return new State(count, state.windowStart(), 0, false);
        });
    }

    private long remaining(State state, long now) {
        long end = state.locked() ? state.lockedUntil() : state.windowStart() + limits.window().toNanos();
        return Math.max(0, end - now);
    }

    /**
     * IPv4 addresses are counted one by one; IPv6 clients by /64, the smallest block a site gets,
     * since one attacker can pick any of 2^64 addresses inside it.
     */
    static Key clientKey(InetAddress client) {
        if (client instanceof Inet6Address) {
            byte[] prefix = Arrays.copyOf(client.getAddress(), 16);
            Arrays.fill(prefix, 8, 16, (byte) 0);
            StringBuilder text = new StringBuilder();
            for (int i = 0; i < 8; i += 2) {
                text.append(String.format("%x:", ((prefix[i] & 0xFF) << 8) | (prefix[i + 1] & 0xFF)));
            }
            return new Key(Kind.CLIENT, text.append(":/64").toString());
        }
        return new Key(Kind.CLIENT, client.getHostAddress());
    }

    static Key userKey(String user) {
        return new Key(Kind.USER, user);
    }

    private static Duration max(Duration a, Duration b) {
        return a.compareTo(b) >= 0 ? a : b;
    }
}
