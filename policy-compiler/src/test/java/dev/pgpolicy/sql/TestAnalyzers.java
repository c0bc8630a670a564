package dev.pgpolicy.sql;

import java.time.Duration;

/**
 * Analyzers for tests that check facts, not the budget: on a loaded build machine a thread can
 * be off the CPU for longer than the production budget, which would turn a correct parse into
 * an (intentionally fail-closed) unparsed statement and a flaky test.
 */
final class TestAnalyzers {
    private TestAnalyzers() {
    }

    static SqlAnalyzer generousBudget() {
        return new SqlAnalyzer(SqlAnalyzer.Settings.defaults().withBudget(Duration.ofSeconds(60)));
    }
}
