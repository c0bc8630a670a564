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
 * ({@code AS b<n>}): the lexer, the classifier, the normalizer and the analysis all run, and
 * the cache stores the result (and evicts older entries) as it would for a statement seen for
 * the first time. {@code coldOltpSelect} is what the proxy does: the statement is a simple
 * shape, so SimpleStatementAnalyzer answers it on the calling thread. {@code
 * coldOltpSelectFullPath} is the same with that fast path switched off: JSqlParser on its bounded
 * executor and the facts visitor. Measure both in one run: on a shared machine only figures taken
 * side by side compare. Warm: the same statement with a new literal each time, which is what
 * simple-protocol traffic looks like; it hits the cache.
 *
 * <p>Twelve warm-up iterations: with six or eight, on a busy 2-core machine the JIT compiler
 * threads had not caught up and the cold medians read five to ten times too high, falling from
 * one measurement iteration to the next (docs/performance.md, "Cold SQL analysis").
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@Warmup(iterations = 12, time = 2)
@Measurement(iterations = 5, time = 2)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class AnalysisBenchmark {

    private SqlAnalyzer analyzer;
    private SqlAnalyzer fullPathAnalyzer;
    private long counter;

    @Setup(Level.Trial)
    public void setUp() {
        analyzer = new SqlAnalyzer();
        fullPathAnalyzer = new SqlAnalyzer(SqlAnalyzer.Settings.defaults().withSimpleFastPath(false));
        QueryAnalysis check = analyzer.analyze("SELECT abalance AS b0 FROM pgbench_accounts WHERE aid = 12345");
        if (!check.statements().get(0).parsed() || check.statements().get(0).tables().isEmpty()
                || analyzer.simpleAnswers() != 1) {
            throw new IllegalStateException("the fast path must answer the benchmark statement: " + check);
        }
        QueryAnalysis viaParser = fullPathAnalyzer.analyze("SELECT abalance AS b0 FROM pgbench_accounts WHERE aid = 12345");
        if (!viaParser.equals(check) || fullPathAnalyzer.parses() != 1) {
            throw new IllegalStateException("both paths must give the same facts: " + check + " / " + viaParser);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        analyzer.close();
        fullPathAnalyzer.close();
    }

    @Benchmark
    public QueryAnalysis coldOltpSelect() {
        return analyzer.analyze("SELECT abalance AS b" + (++counter) + " FROM pgbench_accounts WHERE aid = 12345");
    }

    @Benchmark
    public QueryAnalysis coldOltpSelectFullPath() {
        return fullPathAnalyzer.analyze("SELECT abalance AS b" + (++counter) + " FROM pgbench_accounts WHERE aid = 12345");
    }

    @Benchmark
    public QueryAnalysis warmOltpSelectNewLiteral() {
        return analyzer.analyze("SELECT abalance FROM pgbench_accounts WHERE aid = " + (++counter % 100_000));
    }
}
