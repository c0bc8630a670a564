package dev.pgpolicy.bench;

import dev.pgpolicy.sql.LexedStatement;
import dev.pgpolicy.sql.Normalizer;
import dev.pgpolicy.sql.StatementSplitter;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The lexer path every statement takes before the cache is consulted: split the message into
 * statements, normalize literals away and fingerprint the result.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class LexerBenchmark {

    @Param({
        "SELECT abalance FROM pgbench_accounts WHERE aid = 12345",
        "UPDATE pgbench_accounts SET abalance = abalance + -4213 WHERE aid = 87311",
        "SELECT o.id, c.email FROM shop.orders o JOIN shop.customers c ON c.id = o.customer_id"
                + " WHERE o.created_at > now() - interval '1 day' AND c.note = E'it''s' AND o.meta @> $$\"x\"$$::jsonb"
    })
    public String sql;

    @Benchmark
    public void lexAndFingerprint(Blackhole blackhole) {
        for (LexedStatement statement : StatementSplitter.split(sql)) {
            blackhole.consume(Normalizer.fingerprint(Normalizer.normalize(statement)));
        }
    }
}
