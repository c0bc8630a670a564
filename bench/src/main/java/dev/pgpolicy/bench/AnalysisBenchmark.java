package dev.pgpolicy.bench;

import dev.pgpolicy.sql.QueryAnalysis;
import dev.pgpolicy.sql.SqlAnalyzer;
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
import org.openjdk.jmh.annotations.TearDown;

/**
 * SQL analysis of a typical OLTP statement (pgbench's select), cold and warm.
 *
 * <p>Cold: the facts cache is keyed by normalized text, so literals alone never miss it. Each
 * cold operation therefore gives the statement a column alias it never had before
 * ({@code AS b<n>}): the lexer, the classifier, the normalizer, the parser on its bounded
 * executor and the facts visitor all run, and the cache stores the result (and evicts older
 * entries) as it would for a statement seen for the first time. Warm: the same statement with
 * a new literal each time, which is what simple-protocol traffic looks like; it hits the cache.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@Warmup(iterations = 8, time = 2)
@Measurement(iterations = 5, time = 2)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class AnalysisBenchmark {

    private SqlAnalyzer analyzer;
    private long counter;

    @Setup(Level.Trial)
    public void setUp() {
        analyzer = new SqlAnalyzer();
        QueryAnalysis check = analyzer.analyze("SELECT abalance AS b0 FROM pgbench_accounts WHERE aid = 12345");
        if (!check.statements().get(0).parsed() || check.statements().get(0).tables().isEmpty()) {
            throw new IllegalStateException("the benchmark statement must parse: " + check);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        analyzer.close();
    }

    @Benchmark
    public QueryAnalysis coldOltpSelect() {
        return analyzer.analyze("SELECT abalance AS b" + (++counter) + " FROM pgbench_accounts WHERE aid = 12345");
    }

    @Benchmark
    public QueryAnalysis warmOltpSelectNewLiteral() {
        return analyzer.analyze("SELECT abalance FROM pgbench_accounts WHERE aid = " + (++counter % 100_000));
    }
}
