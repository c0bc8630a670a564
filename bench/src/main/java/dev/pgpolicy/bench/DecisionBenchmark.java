package dev.pgpolicy.bench;

import dev.pgpolicy.policy.Decision;
import dev.pgpolicy.policy.PolicySet;
import dev.pgpolicy.policy.PrincipalClass;
import dev.pgpolicy.policy.SearchPathResolver;
import dev.pgpolicy.policy.SessionContext;
import dev.pgpolicy.sql.QueryAnalysis;
import dev.pgpolicy.sql.SqlAnalyzer;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The policy decision for a statement whose facts come from the fingerprint cache: what the
 * proxy does for every Query, Parse and Bind once traffic is warm. The set is the PCI payments
 * example (roles on user, groups, network and TLS; allows and denies on globs; masks; guards;
 * limits; audit).
 *
 * <ul>
 *   <li>{@code cachedFactsPrincipalKnown}: facts analysed and the session's principal class
 *       computed once per session, as the proxy keeps it; only the statement is decided.</li>
 *   <li>{@code cachedFactsWithSession}: the principal class is recomputed from the session on
 *       every call (the worst case: a session whose attributes just changed).</li>
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@Warmup(iterations = 10, time = 1)
@Measurement(iterations = 5, time = 1)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class DecisionBenchmark {

    private PolicySet policies;
    private SearchPathResolver resolver;

    private SessionContext appSession;
    private PrincipalClass appPrincipal;
    private QueryAnalysis appPointSelect;

    private SessionContext analystSession;
    private PrincipalClass analystPrincipal;
    private QueryAnalysis analystJoin;

    @Setup(Level.Trial)
    public void setUp() throws UnknownHostException {
        policies = ExamplePolicies.compile("pci-payments");
        resolver = SearchPathResolver.defaultPath();
        Instant noon = Instant.parse("2026-03-04T12:00:00Z");
        appSession = new SessionContext("payments_api", Set.of(), "payments_app", "payments", "payments-api",
                InetAddress.getByName("10.30.2.15"), "scram", true, null, noon, ZoneOffset.UTC);
        analystSession = new SessionContext("fiona", Set.of("fraud_analysts"), "analyst_ro", "payments", "metabase",
                InetAddress.getByName("10.40.1.20"), "scram", true, null, noon, ZoneOffset.UTC);
        appPrincipal = policies.principalClass(appSession);
        analystPrincipal = policies.principalClass(analystSession);
        try (SqlAnalyzer analyzer = new SqlAnalyzer()) {
            appPointSelect = analyzer.analyze(
                    "SELECT card_number, expiry_month, expiry_year FROM payments.cards WHERE id = 12345");
            analystJoin = analyzer.analyze("SELECT c.card_number, c.cardholder_name, t.amount_cents"
                    + " FROM payments.transactions t JOIN payments.cards c ON c.id = t.card_id"
                    + " WHERE t.merchant_id = 42 ORDER BY t.created_at DESC");
        }
        requireAllowed(policies.evaluate(appPrincipal, appPointSelect, resolver));
        requireAllowed(policies.evaluate(analystPrincipal, analystJoin, resolver));
    }

    private static void requireAllowed(Decision decision) {
        // A benchmark of a denial by mistake would measure the wrong path.
        if (!decision.allowed() || decision.masks().isEmpty()) {
            throw new IllegalStateException("benchmark statement should be allowed with masks: " + decision);
        }
    }

    @Benchmark
    public Decision cachedFactsPrincipalKnown() {
        return policies.evaluate(appPrincipal, appPointSelect, resolver);
    }

    @Benchmark
    public Decision cachedFactsPrincipalKnownJoinWithMasks() {
        return policies.evaluate(analystPrincipal, analystJoin, resolver);
    }

    @Benchmark
    public Decision cachedFactsWithSession() {
        return policies.evaluate(appSession, appPointSelect, resolver);
    }
}
