package dev.pgpolicy.proxy.admin;

import dev.pgpolicy.proxy.audit.AuditLog;
import dev.pgpolicy.proxy.identity.LoginThrottle;
import dev.pgpolicy.proxy.session.SessionInfo;
import dev.pgpolicy.proxy.session.SessionListener;
import dev.pgpolicy.proxy.session.SessionSummary;
import dev.pgpolicy.proxy.session.UpstreamPool;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

/**
 * The proxy's metrics, one instance per {@link dev.pgpolicy.proxy.server.ProxyServer} with its own
 * registry (no process-wide default registry, so two proxies in one JVM, as in tests, never mix
 * their counts). Session events arrive through {@link SessionListener}; enforcement code calls the
 * {@code record...} methods. {@code GET /metrics} serves {@link #scrape()}.
 *
 * <p>Histograms are classic (explicit buckets) because the text exposition format cannot carry
 * native histograms; bucket bounds are in seconds, as Prometheus conventions require.
 */
public final class ProxyMetrics implements SessionListener {

    /** Content type of the Prometheus text format, version 0.0.4. */
    public static final String CONTENT_TYPE = PrometheusTextFormatWriter.CONTENT_TYPE;

    /** A loopback TCP connect takes ~100 µs; a remote TLS handshake tens of ms; the top buckets catch a struggling server. */
    private static final double[] CONNECT_BUCKETS = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
    /** A cached decision takes about a microsecond, a cold analysis tens to hundreds of microseconds. */
    private static final double[] EVALUATION_BUCKETS = {0.000001, 0.0000025, 0.000005, 0.00001, 0.000025, 0.00005,
            0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.01, 0.05};

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
    private final Counter connections;
    private final Counter bytesIn;
    private final Counter bytesOut;
    private final Counter authentications;
    private final Histogram upstreamConnect;
    private final Counter statements;
    private final Histogram evaluation;
    private final Counter masks;
    private final Counter throttled;
    private final Counter reloads;

    /**
     * @param openSessions the number of sessions open now (read at each scrape)
     * @param audit the audit log whose counters to expose, when one is configured
     */
    public ProxyMetrics(IntSupplier openSessions, Optional<AuditLog> audit) {
        Objects.requireNonNull(openSessions);
        GaugeWithCallback.builder()
                .name("pgpolicy_connections_open")
                .help("Client connections open now, from accept to close.")
                .callback(callback -> callback.call(openSessions.getAsInt()))
                .register(registry);
        connections = Counter.builder()
                .name("pgpolicy_connections_total")
                .help("Client connections closed, by what they amounted to.")
                .labelNames("outcome")
                .register(registry);
        for (SessionSummary.Outcome outcome : SessionSummary.Outcome.values()) {
            connections.initLabelValues(outcome.label());
        }
        bytesIn = Counter.builder()
                .name("pgpolicy_client_received_bytes_total")
                .help("Bytes received from clients, TLS included, counted when each connection closes.")
                .register(registry);
        bytesOut = Counter.builder()
                .name("pgpolicy_client_sent_bytes_total")
                .help("Bytes sent to clients, TLS included, counted when each connection closes.")
                .register(registry);
        authentications = Counter.builder()
                .name("pgpolicy_authentications_total")
                .help("Authentication results of client sessions.")
                .labelNames("outcome")
                .register(registry);
        authentications.initLabelValues("success");
        authentications.initLabelValues("failure");
        upstreamConnect = Histogram.builder()
                .name("pgpolicy_upstream_connect_seconds")
                .help("Time to open a connection to the upstream server, TLS included; with the upstream pool, to get one"
                        + " from it, login or settings included.")
                .unit(Unit.SECONDS)
                .classicOnly()
                .classicUpperBounds(CONNECT_BUCKETS)
                .register(registry);
        statements = Counter.builder()
                .name("pgpolicy_statements_total")
                .help("Statements decided by the policy, by decision and statement kind.")
                .labelNames("decision", "kind")
                .register(registry);
        evaluation = Histogram.builder()
                .name("pgpolicy_policy_evaluation_seconds")
                .help("Time to analyse and evaluate one statement against the policy.")
                .unit(Unit.SECONDS)
                .classicOnly()
                .classicUpperBounds(EVALUATION_BUCKETS)
                .register(registry);
        masks = Counter.builder()
                .name("pgpolicy_masks_applied_total")
                .help("Column masks applied to results.")
                .register(registry);
        throttled = Counter.builder()
                .name("pgpolicy_throttled_requests_total")
                .help("Requests refused or delayed by a limit, by limit.")
                .labelNames("limit")
                .register(registry);
        reloads = Counter.builder()
                .name("pgpolicy_policy_reloads_total")
                .help("Policy reload attempts, by outcome.")
                .labelNames("outcome")
                .register(registry);
        reloads.initLabelValues("success");
        reloads.initLabelValues("failure");
        audit.ifPresent(log -> {
            CounterWithCallback.builder()
                    .name("pgpolicy_audit_records_written_total")
                    .help("Audit records written to the log.")
                    .callback(callback -> callback.call(log.recordsWritten()))
                    .register(registry);
            CounterWithCallback.builder()
                    .name("pgpolicy_audit_write_failures_total")
                    .help("Failed attempts to write audit records (the log retries).")
                    .callback(callback -> callback.call(log.writeFailures()))
                    .register(registry);
            CounterWithCallback.builder()
                    .name("pgpolicy_audit_records_refused_total")
                    .help("Audit records refused because the log was full or failing.")
                    .callback(callback -> callback.call(log.recordsRefused()))
                    .register(registry);
            GaugeWithCallback.builder()
                    .name("pgpolicy_audit_healthy")
                    .help("1 when the audit log is writing records, 0 when it is failing.")
                    .callback(callback -> callback.call(log.healthy() ? 1 : 0))
                    .register(registry);
        });
    }

    /** Every metric in the Prometheus text format ({@link #CONTENT_TYPE}). */
    public byte[] scrape() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(8192);
        try {
            writer.write(out, registry.scrape(), EscapingScheme.UNDERSCORE_ESCAPING);
        } catch (IOException e) {
            throw new UncheckedIOException("writing to memory failed", e);
        }
        return out.toByteArray();
    }

    /** A statement decided by the policy; {@code decision} is allow, deny, mask, warn; {@code kind} the statement kind. */
    public void recordStatement(String decision, String kind) {
        statements.labelValues(decision, kind).inc();
    }

    public void recordEvaluation(Duration elapsed) {
        evaluation.observe(seconds(elapsed));
    }

    public void recordMasksApplied(long count) {
        masks.inc(count);
    }

    /** A request refused or delayed by {@code limit} (e.g. queries_per_second, connections). */
    public void recordThrottled(String limit) {
        throttled.labelValues(limit).inc();
    }

    /**
     * The failed-login throttle of {@code auth.mode: proxy}: failures counted, logins delayed,
     * logins refused while locked, and lockouts begun. Read from the throttle at each scrape.
     */
    public void exposeLoginThrottle(Supplier<LoginThrottle.Counters> counters) {
        CounterWithCallback.builder()
                .name("pgpolicy_login_throttle_total")
                .help("Failed-login throttle events: failure, delayed, refused, lockout.")
                .labelNames("event")
                .callback(callback -> {
                    LoginThrottle.Counters now = counters.get();
                    callback.call(now.failures(), "failure");
                    callback.call(now.delayed(), "delayed");
                    callback.call(now.refused(), "refused");
                    callback.call(now.lockouts(), "lockout");
                })
                .register(registry);
    }

    /**
     * The upstream connection pool of {@code auth.mode: proxy}: idle connections now, and
     * connections opened, reused by a later session, and closed. Read from the pool at each scrape.
     */
    public void exposeUpstreamPool(Supplier<UpstreamPool.Counters> counters) {
        GaugeWithCallback.builder()
                .name("pgpolicy_upstream_pool_idle")
                .help("Upstream connections idle in the pool, ready for the next session.")
                .callback(callback -> callback.call(counters.get().idle()))
                .register(registry);
        CounterWithCallback.builder()
                .name("pgpolicy_upstream_pool_opened_total")
                .help("Upstream connections the pool opened and logged in.")
                .callback(callback -> callback.call(counters.get().opened()))
                .register(registry);
        CounterWithCallback.builder()
                .name("pgpolicy_upstream_pool_reused_total")
                .help("Sessions served by an upstream connection an earlier session used.")
                .callback(callback -> callback.call(counters.get().reused()))
                .register(registry);
        CounterWithCallback.builder()
                .name("pgpolicy_upstream_pool_reused_as_is_total")
                .help("Reuses that found the client's startup settings already in place: no set_config before the session.")
                .callback(callback -> callback.call(counters.get().reusedAsIs()))
                .register(registry);
        CounterWithCallback.builder()
                .name("pgpolicy_upstream_pool_closed_total")
                .help("Upstream connections of the pool closed, for any reason.")
                .callback(callback -> callback.call(counters.get().closed()))
                .register(registry);
    }

    public void recordReload(boolean succeeded) {
        reloads.labelValues(succeeded ? "success" : "failure").inc();
    }

    // ---------------------------------------------------------------- session events

    @Override
    public void upstreamConnected(SessionInfo session, Duration elapsed) {
        upstreamConnect.observe(seconds(elapsed));
    }

    @Override
    public void authenticated(SessionInfo session) {
        authentications.labelValues("success").inc();
    }

    @Override
    public void authenticationFailed(SessionInfo session, String reason) {
        authentications.labelValues("failure").inc();
    }

    @Override
    public void closed(SessionInfo session, SessionSummary summary) {
        connections.labelValues(summary.outcome().label()).inc();
        bytesIn.inc(summary.bytesIn());
        bytesOut.inc(summary.bytesOut());
    }

    private static double seconds(Duration elapsed) {
        return elapsed.toNanos() / 1e9;
    }
}
