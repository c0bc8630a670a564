package dev.pgpolicy.proxy.enforce;

import dev.pgpolicy.policy.AuditLevel;
import dev.pgpolicy.policy.CompileResult;
import dev.pgpolicy.policy.Decision;
import dev.pgpolicy.policy.PolicyCompiler;
import dev.pgpolicy.policy.PolicySet;
import dev.pgpolicy.policy.SearchPathResolver;
import dev.pgpolicy.policy.SessionContext;
import dev.pgpolicy.policy.SourceFile;
import dev.pgpolicy.proxy.audit.AuditConfig;
import dev.pgpolicy.proxy.audit.AuditLog;
import dev.pgpolicy.proxy.session.Phase;
import dev.pgpolicy.proxy.session.SessionAttachments;
import dev.pgpolicy.proxy.session.SessionInfo;
import dev.pgpolicy.sql.QueryAnalysis;
import dev.pgpolicy.sql.SqlAnalyzer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The statement audit's work on the event loop for one statement decided from the caches: the
 * same {@code Decision}, facts and session every time, as steady traffic hands them over.
 * {@code deniedStatementRecord} is a denied statement's record, built at decision time (for an
 * allowed statement the same record is built at its completion). The log is closed before the
 * measurement, so the record is built in full and refused at the queue's first check: what is
 * measured is the building, not the writer thread, which {@code AuditLineBenchmark} measures.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SampleTime)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class AuditRecordBenchmark {

    private static final String POLICY = """
            allow any session;
            allow any select on public.pgbench_accounts;
            @id("no-writes") @reason("read-only service")
            deny any update on public.pgbench_accounts;
            audit any statements;
            """;

    private Path directory;
    private StatementAudit audit;
    private DecisionListener.Decided denied;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        CompileResult compiled = PolicyCompiler.compile(List.of(new SourceFile("bench.pgpolicy", POLICY)));
        PolicySet policies = compiled.policySet().orElseThrow(() -> new IllegalStateException(
                "benchmark policy does not compile: " + compiled.diagnostics()));
        QueryAnalysis update;
        try (SqlAnalyzer analyzer = new SqlAnalyzer()) {
            update = analyzer.analyze("UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid = 12345");
        }
        SessionContext context = new SessionContext("bench", Set.of(), "bench", "bench", "pgbench", null,
                "passthrough", false, null, Instant.parse("2026-12-04T12:00:00Z"), ZoneOffset.UTC);
        Decision decision = policies.evaluate(context, update, SearchPathResolver.defaultPath());
        if (decision.allowed()) {
            throw new IllegalStateException("the benchmark statement must be denied");
        }
        directory = Files.createTempDirectory("pgpolicy-audit-bench");
        AuditLog log = AuditLog.open(AuditConfig.defaults(directory));
        log.close();
        audit = new StatementAudit(log);
        denied = new DecisionListener.Decided(new BenchSession(), "Query", "",
                "UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid = 12345", update, decision,
                DecisionListener.Outcome.DENIED, new LivePolicy.Revision("9b1e".repeat(16), Optional.empty()),
                AuditLevel.STATEMENTS, null, Instant.now(), System.nanoTime());
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        try (var files = Files.list(directory)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                Files.delete(file);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Files.delete(directory);
    }

    @Benchmark
    public CompletionStage<Void> deniedStatementRecord() {
        return audit.record(denied);
    }

    /** A logged-in session as the proxy's own hands its fields out: the same instances until one changes. */
    private static final class BenchSession implements SessionInfo {
        private final SessionAttachments attachments = new SessionAttachments();
        private final InetSocketAddress client = new InetSocketAddress("10.1.2.3", 51_234);
        private final Optional<String> user = Optional.of("bench");
        private final Optional<String> database = Optional.of("bench");
        private final Optional<String> applicationName = Optional.of("pgbench");
        private final Optional<String> authMethod = Optional.of("scram-sha-256");

        @Override
        public String id() {
            return "5e55b3c4";
        }

        @Override
        public SessionAttachments attachments() {
            return attachments;
        }

        @Override
        public InetSocketAddress clientAddress() {
            return client;
        }

        @Override
        public Optional<String> user() {
            return user;
        }

        @Override
        public Optional<String> database() {
            return database;
        }

        @Override
        public Optional<String> applicationName() {
            return applicationName;
        }

        @Override
        public boolean tls() {
            return true;
        }

        @Override
        public Optional<String> authMethod() {
            return authMethod;
        }

        @Override
        public Phase phase() {
            return Phase.READY;
        }

        @Override
        public char transactionStatus() {
            return 'I';
        }
    }
}
