package dev.pgpolicy.proxy.audit;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
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
 * The audit writer thread's work per statement record: the JSON line and its SHA-256 chain value
 * ({@link AuditJson#encode}), for a {@code metadata}-level record of a session's select, the same
 * connection instance every time as a session hands it over. The write and fsync of a batch are
 * not included (they are shared by the records of a batch and depend on the disk).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SampleTime)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class AuditLineBenchmark {

    private AuditJson json;
    private AuditRecord record;
    private long seq;
    /** The previous line's hash, as the chain hands it on: 64 hex digits. */
    private final String prev = "0".repeat(64);

    @Setup(Level.Trial)
    public void setUp() {
        json = new AuditJson(ChainKey.unkeyed());
        AuditConnection connection = new AuditConnection("bench", List.of(), "bench", "bench", "pgbench",
                "10.1.2.3", 51_234, true);
        AuditStatement statement = AuditStatement.builder(AuditLevel.METADATA, "select", AuditDecision.ALLOW)
                .object("public.pgbench_accounts", "select")
                .fingerprint("bb98f4e89857e4b6")
                .rules(List.of("bench.pgpolicy:2"))
                .rows(1)
                .duration(Duration.ofNanos(212_345))
                .build();
        record = AuditRecord.statement(Instant.parse("2026-12-04T12:00:00.123456Z"), "5e55b3c4", connection,
                statement, "sha256 " + "9b1e".repeat(16));
    }

    @Benchmark
    public byte[] statementLine() {
        return json.encode(record, ++seq, prev).bytes();
    }
}
