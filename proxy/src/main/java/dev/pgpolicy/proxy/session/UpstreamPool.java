package dev.pgpolicy.proxy.session;

import dev.pgpolicy.proxy.identity.UpstreamAccount;
import dev.pgpolicy.proxy.identity.UserDirectory;
import dev.pgpolicy.proxy.identity.UsersFile;
import dev.pgpolicy.proxy.server.UpstreamPoolConfig;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Server connections kept open between sessions in {@code auth.mode: proxy}, as PgBouncer's
 * session pooling does, so that a client that connects per transaction does not pay PostgreSQL's
 * backend start-up (a fork, catalog cache warm-up and the service account's SCRAM exchange) each
 * time.
 *
 * <pre>
 *   session authenticated ─► lease(key, settings) ─► idle backend of the key on this event loop?
 *        ├─ yes: set_config(the settings it lacks) (also proves the backend alive) ─► session
 *        │        ├─ it has them all and was idle under a second: no query ─► session
 *        │        └─ connection broken: closed, the next idle one or a new one is tried
 *        └─ no:  connect, log in as the service account ─► set_config(...) ─► session
 *   session ends idle ('I', nothing in flight) ─► release ─► reset query, then the session's reported
 *        settings again (one flush) ─► idle list (within limits)
 *   session ends otherwise (in a transaction, mid-COPY, after a failure) ─► the session closes the connection
 * </pre>
 *
 * <p>One idle list per event loop, not one shared list. A session's client and server channels
 * share an event loop, which is why the relay needs no lock; a connection from a shared list
 * would have to be deregistered from its loop and registered with the session's (Netty allows it,
 * but in-flight reads, timers and the TLS engine would all cross threads while it happens).
 * Per-loop lists keep every step on one thread. The price is at most one set of idle
 * connections per loop, bounded by the global {@code max_idle} and {@code max_idle_per_key}
 * counts, which are shared; under a connection-per-transaction load clients are spread over all
 * loops, so each loop's list stays warm.
 *
 * <p>State that {@code DISCARD ALL} does not undo is not the pool's to fix: libraries loaded with
 * LOAD, an extension's session memory, and settings applied at backend start (the startup options,
 * which are part of the key for that reason).
 */
public final class UpstreamPool {

    private static final Logger LOG = LoggerFactory.getLogger(UpstreamPool.class);

    /**
     * A lease that needs no settings still sends an empty query, as a health check, to a backend
     * idle this long: one the server ended meanwhile (idle_session_timeout, pg_terminate_backend,
     * a restart) is then replaced unseen by the client. A backend idle for less was answering its
     * reset query moments ago and is handed over without a round trip; the server's FATAL on an
     * idle connection removes it from the list as soon as it arrives (PgBouncer's
     * server_check_delay, 30 s by default, plays the same part).
     */
    private static final long HEALTH_CHECK_AFTER_IDLE_NANOS = TimeUnit.SECONDS.toNanos(1);

    /**
     * Counts for the admin endpoint's metrics; {@code reusedAsIs} counts the reuses that found the
     * client's settings already in place and sent no {@code set_config}.
     */
    public record Counters(int idle, long opened, long reused, long reusedAsIs, long closed) {}

    private final UpstreamPoolConfig config;
    private final UpstreamConnector connector;
    private final boolean upstreamEncrypted;
    private final UserDirectory users;
    private final Map<EventLoop, LoopPool> loops = new ConcurrentHashMap<>();
    private final Map<PoolKey, AtomicInteger> idlePerKey = new ConcurrentHashMap<>();
    private final AtomicInteger idle = new AtomicInteger();
    private final AtomicLong opened = new AtomicLong();
    private final AtomicLong reused = new AtomicLong();
    private final AtomicLong reusedAsIs = new AtomicLong();
    private final AtomicLong closed = new AtomicLong();

    UpstreamPool(UpstreamPoolConfig config, UpstreamConnector connector, boolean upstreamEncrypted, UserDirectory users) {
        this.config = Objects.requireNonNull(config);
        this.connector = Objects.requireNonNull(connector);
        this.upstreamEncrypted = upstreamEncrypted;
        this.users = Objects.requireNonNull(users);
    }

    public Counters counters() {
        return new Counters(idle.get(), opened.get(), reused.get(), reusedAsIs.get(), closed.get());
    }

    /**
     * A backend for {@code request}, with the client's settings applied, owned by the caller (state
     * HELD) until it hands it to a session or back with {@link #release}. Completes on {@code loop}.
     * Fails with {@link PooledBackend.ServerRefused} when the server refused the login or the
     * settings, and with a {@link SessionException} when it could not be reached.
     */
    Future<PooledBackend> lease(EventLoop loop, PoolKey.Request request, String sessionId) {
        Promise<PooledBackend> leased = loop.newPromise();
        if (loop.inEventLoop()) {
            leaseOnLoop(loopPool(loop), request, sessionId, leased);
        } else {
            loop.execute(() -> leaseOnLoop(loopPool(loop), request, sessionId, leased));
        }
        return leased;
    }

    private void leaseOnLoop(LoopPool pool, PoolKey.Request request, String sessionId, Promise<PooledBackend> leased) {
        PooledBackend backend = pool.takeIdle(request.key());
        if (backend == null) {
            openFor(pool, request, sessionId, leased);
            return;
        }
        List<String> queries = backend.leaseQueries(request.settings());
        if (queries.isEmpty() && System.nanoTime() - backend.idleSinceNanos() < HEALTH_CHECK_AFTER_IDLE_NANOS) {
            // The backend already has the client's settings and was in use moments ago: no round trip.
            reused.incrementAndGet();
            reusedAsIs.incrementAndGet();
            backend.leased(request.settings());
            LOG.debug("session {}: reusing upstream connection {} as it is (lease {})", sessionId, backend, backend.leases() + 1);
            leased.trySuccess(backend);
            return;
        }
        // Applying the settings is also the health check: a backend the server ended while it was
        // idle (restart, pg_terminate_backend) fails here, unseen by the client, and the next is tried.
        backend.run(queries.isEmpty() ? List.of("") : queries).addListener(done -> {
            if (done.isSuccess()) {
                reused.incrementAndGet();
                if (queries.isEmpty()) {
                    reusedAsIs.incrementAndGet();
                }
                backend.leased(request.settings());
                LOG.debug("session {}: reusing upstream connection {} (lease {})", sessionId, backend, backend.leases() + 1);
                leased.trySuccess(backend);
            } else if (done.cause() instanceof PooledBackend.ServerRefused) {
                leased.tryFailure(done.cause());
                release(backend, sessionId);
            } else {
                LOG.debug("session {}: pooled upstream connection {} was unusable, trying another: {}", sessionId,
                        backend, done.cause().getMessage());
                backend.close();
                leaseOnLoop(pool, request, sessionId, leased);
            }
        });
    }

    private void openFor(LoopPool pool, PoolKey.Request request, String sessionId, Promise<PooledBackend> leased) {
        Promise<Void> loggedIn = pool.loop.newPromise();
        PooledBackend backend = PooledBackend.open(connector, pool.loop, request.key(), upstreamEncrypted, loggedIn);
        loggedIn.addListener(login -> {
            if (!login.isSuccess()) {
                leased.tryFailure(login.cause());
                return;
            }
            opened.incrementAndGet();
            // Counted however it ends: by the pool, by a session that failed, or by the server.
            backend.channel().closeFuture().addListener(done -> closed.incrementAndGet());
            LOG.debug("session {}: opened upstream connection {}", sessionId, backend);
            List<String> queries = backend.leaseQueries(request.settings());
            if (queries.isEmpty()) {
                backend.leased(request.settings());
                leased.trySuccess(backend);
                return;
            }
            backend.run(queries).addListener(done -> {
                if (done.isSuccess()) {
                    backend.leased(request.settings());
                    leased.trySuccess(backend);
                    return;
                }
                leased.tryFailure(done.cause());
                if (done.cause() instanceof PooledBackend.ServerRefused) {
                    release(backend, sessionId);
                } else {
                    backend.close();
                }
            });
        });
    }

    /**
     * A session is done with {@code backend} and left it idle ('I', nothing in flight): it is
     * reset and kept for the next session, or closed when it is too old, its account changed, the
     * reset failed or the pool is full. Call on the backend's event loop, in state LEASED or HELD.
     */
    void release(PooledBackend backend, String sessionId) {
        if (backend.state() == PooledBackend.State.LEASED) {
            backend.takeBack();
        }
        Optional<String> refusal = refusal(backend);
        if (refusal.isPresent()) {
            LOG.debug("session {}: closing upstream connection {}: {}", sessionId, backend, refusal.get());
            backend.close();
            return;
        }
        backend.run(backend.releaseQueries(config.resetQuery())).addListener(done -> {
            if (!done.isSuccess()) {
                LOG.debug("session {}: closing upstream connection {}: the reset query failed: {}", sessionId,
                        backend, done.cause().getMessage());
                backend.close();
                return;
            }
            loopPool(backend.channel().eventLoop()).offer(backend, sessionId);
        });
    }

    /** Why {@code backend} must not be pooled again, if it must not. */
    private Optional<String> refusal(PooledBackend backend) {
        if (!backend.channel().isActive()) {
            return Optional.of("the connection is closed");
        }
        if (System.nanoTime() - backend.openedNanos() > config.maxLifetime().toNanos()) {
            return Optional.of("older than upstream.pool.max_lifetime " + config.maxLifetime());
        }
        if (!current(backend.key().account())) {
            return Optional.of("service account " + backend.key().account().name() + " changed or was removed");
        }
        return Optional.empty();
    }

    private boolean current(UpstreamAccount account) {
        return account.equals(users.current().accounts().get(account.name()));
    }

    /**
     * After a users-file reload: closes the idle connections of accounts that were removed or
     * whose role or password changed. Connections in use are refused by {@link #release} when
     * their session ends (and those sessions are ended anyway, their users having changed).
     */
    void retainAccountsOf(UsersFile snapshot) {
        Predicate<PoolKey> stale = key -> !key.account().equals(snapshot.accounts().get(key.account().name()));
        for (LoopPool pool : loops.values()) {
            pool.loop.execute(() -> pool.closeIdle(stale, "its service account changed or was removed"));
        }
    }

    /** Closes every idle connection (proxy shutdown). */
    public void closeIdle() {
        for (LoopPool pool : loops.values()) {
            try {
                pool.loop.execute(() -> pool.closeIdle(key -> true, "the proxy is shutting down"));
            } catch (RuntimeException rejected) {
                // The loop is already shutting down, and closes its channels itself.
            }
        }
    }

    private LoopPool loopPool(EventLoop loop) {
        return loops.computeIfAbsent(loop, LoopPool::new);
    }

    /** How often each loop looks for idle connections past their time: a fraction of the shorter limit, within bounds. */
    private long sweepPeriodNanos() {
        Duration shortest = config.idleTimeout().compareTo(config.maxLifetime()) < 0 ? config.idleTimeout() : config.maxLifetime();
        long quarter = shortest.toNanos() / 4;
        return Math.max(TimeUnit.MILLISECONDS.toNanos(100), Math.min(TimeUnit.SECONDS.toNanos(5), quarter));
    }

    /** One event loop's idle connections; touched only on that loop. */
    private final class LoopPool {
        private final EventLoop loop;
        /** Most recently used last: leases take from the end, so rarely used connections age out. */
        private final Map<PoolKey, ArrayDeque<PooledBackend>> idleByKey = new HashMap<>();

        LoopPool(EventLoop loop) {
            this.loop = loop;
            long period = sweepPeriodNanos();
            loop.scheduleAtFixedRate(this::sweep, period, period, TimeUnit.NANOSECONDS);
        }

        PooledBackend takeIdle(PoolKey key) {
            ArrayDeque<PooledBackend> list = idleByKey.get(key);
            while (list != null && !list.isEmpty()) {
                PooledBackend backend = list.pollLast();
                forget(key, list);
                backend.leaveIdle();
                if (System.nanoTime() - backend.openedNanos() <= config.maxLifetime().toNanos()) {
                    return backend;
                }
                LOG.debug("closing upstream connection {}: older than upstream.pool.max_lifetime", backend);
                backend.close();
            }
            return null;
        }

        void offer(PooledBackend backend, String sessionId) {
            PoolKey key = backend.key();
            AtomicInteger forKey = idlePerKey.computeIfAbsent(key, k -> new AtomicInteger());
            if (forKey.incrementAndGet() > config.maxIdlePerKey()) {
                forKey.decrementAndGet();
                LOG.debug("session {}: closing upstream connection {}: upstream.pool.max_idle_per_key {} reached",
                        sessionId, backend, config.maxIdlePerKey());
                backend.close();
                return;
            }
            if (idle.incrementAndGet() > config.maxIdle()) {
                idle.decrementAndGet();
                forKey.decrementAndGet();
                LOG.debug("session {}: closing upstream connection {}: upstream.pool.max_idle {} reached",
                        sessionId, backend, config.maxIdle());
                backend.close();
                return;
            }
            ArrayDeque<PooledBackend> list = idleByKey.computeIfAbsent(key, k -> new ArrayDeque<>());
            list.addLast(backend);
            backend.idle(() -> {
                // The server ended it while idle: it leaves the list, nobody else notices.
                LOG.debug("idle upstream connection {} was closed by the server", backend);
                if (list.remove(backend)) {
                    forget(key, list);
                }
            });
            LOG.debug("session {}: upstream connection {} is idle in the pool", sessionId, backend);
        }

        /** Counts one connection out of the idle list of {@code key}. */
        private void forget(PoolKey key, ArrayDeque<PooledBackend> list) {
            idle.decrementAndGet();
            AtomicInteger forKey = idlePerKey.get(key);
            if (forKey != null && forKey.decrementAndGet() <= 0) {
                idlePerKey.remove(key, forKey);
            }
            if (list.isEmpty()) {
                idleByKey.remove(key, list);
            }
        }

        void closeIdle(Predicate<PoolKey> which, String why) {
            for (Map.Entry<PoolKey, ArrayDeque<PooledBackend>> entry : new ArrayList<>(idleByKey.entrySet())) {
                if (!which.test(entry.getKey())) {
                    continue;
                }
                ArrayDeque<PooledBackend> list = entry.getValue();
                PooledBackend backend;
                while ((backend = list.pollFirst()) != null) {
                    forget(entry.getKey(), list);
                    backend.leaveIdle();
                    LOG.debug("closing idle upstream connection {}: {}", backend, why);
                    backend.close();
                }
            }
        }

        private void sweep() {
            long now = System.nanoTime();
            long idleLimit = config.idleTimeout().toNanos();
            long lifeLimit = config.maxLifetime().toNanos();
            for (Map.Entry<PoolKey, ArrayDeque<PooledBackend>> entry : new ArrayList<>(idleByKey.entrySet())) {
                ArrayDeque<PooledBackend> list = entry.getValue();
                for (Iterator<PooledBackend> it = list.iterator(); it.hasNext(); ) {
                    PooledBackend backend = it.next();
                    boolean idleTooLong = now - backend.idleSinceNanos() > idleLimit;
                    if (idleTooLong || now - backend.openedNanos() > lifeLimit) {
                        it.remove();
                        forget(entry.getKey(), list);
                        backend.leaveIdle();
                        LOG.debug("closing idle upstream connection {}: {}", backend, idleTooLong
                                ? "idle longer than upstream.pool.idle_timeout " + config.idleTimeout()
                                : "older than upstream.pool.max_lifetime " + config.maxLifetime());
                        backend.close();
                    }
                }
            }
        }
    }
}
