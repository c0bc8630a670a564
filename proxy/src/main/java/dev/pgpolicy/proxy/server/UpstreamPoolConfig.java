package dev.pgpolicy.proxy.server;

import java.time.Duration;
import java.util.Objects;

/**
 * Reuse of upstream connections in {@code auth.mode: proxy} ({@code upstream.pool} in the
 * configuration file): a session that ends idle hands its server connection back, reset, for the
 * next session of the same service account, database and startup options.
 *
 * @param enabled        false opens one server connection per client session, as passthrough does
 * @param resetQuery     run before a connection is pooled; it must leave no state of the last
 *                       session behind ({@code DISCARD ALL} drops prepared statements, temporary
 *                       tables, LISTENs, advisory locks, session settings and the session role)
 * @param maxIdlePerKey  idle connections kept per (account, database, options): enough for the
 *                       concurrency of one application, not so many that one key starves the rest
 * @param maxIdle        idle connections kept in all, the share of the server's
 *                       {@code max_connections} the pool may hold while nobody uses it; startup
 *                       options are the client's choice, so keys alone do not bound the pool
 * @param idleTimeout    an idle connection older than this is closed, so a quiet proxy gives its
 *                       backends back to the server
 * @param maxLifetime    a connection is closed (not pooled again) once this old, so backend memory
 *                       growth and settings changed on the server (ALTER ROLE ... SET) do not live forever
 */
public record UpstreamPoolConfig(boolean enabled, String resetQuery, int maxIdlePerKey, int maxIdle,
        Duration idleTimeout, Duration maxLifetime) {

    public static final String DEFAULT_RESET_QUERY = "DISCARD ALL";
    public static final int DEFAULT_MAX_IDLE_PER_KEY = 20;
    public static final int DEFAULT_MAX_IDLE = 100;
    /**
     * As PgBouncer's {@code server_idle_timeout}: long enough that a client connecting per
     * transaction, or one that pauses between bursts, finds its connections still there.
     */
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofMinutes(10);
    /** As PgBouncer's {@code server_lifetime}. */
    public static final Duration DEFAULT_MAX_LIFETIME = Duration.ofHours(1);

    public UpstreamPoolConfig {
        Objects.requireNonNull(resetQuery, "resetQuery");
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        Objects.requireNonNull(maxLifetime, "maxLifetime");
        if (resetQuery.isBlank()) {
            // Without a reset the next client would inherit the last one's settings, temporary
            // tables and locks: fail closed and say how to get one connection per session instead.
            throw new IllegalArgumentException("upstream.pool.reset_query must not be empty;"
                    + " set upstream.pool.enabled: false to open a server connection per session instead");
        }
        if (resetQuery.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("upstream.pool.reset_query must not contain a NUL character");
        }
        if (maxIdlePerKey < 1 || maxIdle < 1) {
            throw new IllegalArgumentException("upstream.pool.max_idle and max_idle_per_key must be at least 1;"
                    + " set upstream.pool.enabled: false to keep no idle connections");
        }
        if (idleTimeout.isNegative() || idleTimeout.isZero() || maxLifetime.isNegative() || maxLifetime.isZero()) {
            throw new IllegalArgumentException("upstream.pool.idle_timeout and max_lifetime must be positive");
        }
    }

    public static UpstreamPoolConfig defaults() {
        return new UpstreamPoolConfig(true, DEFAULT_RESET_QUERY, DEFAULT_MAX_IDLE_PER_KEY, DEFAULT_MAX_IDLE,
                DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_LIFETIME);
    }

    public static UpstreamPoolConfig disabled() {
        return new UpstreamPoolConfig(false, DEFAULT_RESET_QUERY, DEFAULT_MAX_IDLE_PER_KEY, DEFAULT_MAX_IDLE,
                DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_LIFETIME);
    }
}
