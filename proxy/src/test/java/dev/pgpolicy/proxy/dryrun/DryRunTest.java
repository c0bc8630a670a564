package dev.pgpolicy.proxy.dryrun;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpolicy.policy.CompileResult;
import dev.pgpolicy.policy.PolicyCompiler;
import dev.pgpolicy.policy.PolicySet;
import dev.pgpolicy.policy.SourceFile;
import dev.pgpolicy.sql.SqlAnalyzer;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The replay engine on statements given directly: session attributes, time, groups, guards, coverage. */
class DryRunTest {
    private static final Instant MORNING = Instant.parse("2026-03-04T10:00:00Z");
    private static final Instant NIGHT = Instant.parse("2026-03-04T23:00:00Z");

    private final SqlAnalyzer analyzer = new SqlAnalyzer(SqlAnalyzer.Settings.defaults().withBudget(Duration.ofSeconds(5)));

    @AfterEach
    void closeAnalyzer() {
        analyzer.close();
    }

    private static PolicySet compile(String text) {
        CompileResult result = PolicyCompiler.compile(List.of(new SourceFile("set.pgpolicy", text)));
        assertThat(result.diagnostics()).isEmpty();
        return result.policySet().orElseThrow();
    }

    private static CapturedStatement statement(String user, String sql, Instant time) {
        return new CapturedStatement(CapturedSession.of(Optional.ofNullable(user), "shop", "", InetAddress.getLoopbackAddress()),
                sql, time);
    }

    @Test
    void decisionsUseTheRecordedTimeGroupsAndGuards() {
        PolicySet policy = compile("""
                role analyst = "bi" in groups;
                @id("office-hours") allow any select on app.orders when hour between 7 and 19;
                @id("analysts") allow analyst select on app.customers;
                @id("emails") mask analyst app.customers.email with email();
                guard any tautology warn;
                @id("idle") deny any truncate on app.*;
                """);
        DryRun run = new DryRun(policy, Optional.empty(), user -> user.equals("ana") ? Set.of("bi") : Set.of(), analyzer);

        run.statement(statement("ana", "SELECT id FROM app.orders WHERE id = 1", MORNING));
        run.statement(statement("ana", "SELECT id FROM app.orders WHERE id = 2", NIGHT));
        run.statement(statement("ana", "SELECT email FROM app.customers WHERE id = 3 OR 1 = 1", MORNING));
        run.statement(statement("bob", "SELECT email FROM app.customers", MORNING));
        run.statement(statement(null, "SELECT id FROM app.orders", MORNING));
        run.statement(statement("ana", "FROBNICATE the orders", MORNING));
        run.statement(statement("ana", "  -- only a comment\n", MORNING));

        DryRunReport report = run.report();
        assertThat(report.statements()).isEqualTo(6);
        assertThat(report.parsed()).isEqualTo(5);
        assertThat(report.totals()).isEqualTo(new DryRunReport.Totals(3, 3, 1, 1));
        assertThat(report.changes()).isEmpty();
        assertThat(report.unusedRules()).containsExactly("idle");

        DryRunReport.Entry masked = report.entries().stream().filter(e -> !e.masks().isEmpty()).findFirst().orElseThrow();
        assertThat(masked.user()).isEqualTo("ana");
        assertThat(masked.masks()).isEqualTo(Map.of("app.customers.email", "email()"));
        assertThat(masked.warnings()).containsExactly("tautology");

        assertThat(report.entries()).filteredOn(e -> e.user().equals("bob"))
                .singleElement().satisfies(e -> assertThat(e.decision()).isEqualTo("deny"));
        assertThat(report.entries()).filteredOn(e -> e.user().equals(CapturedSession.UNKNOWN_USER))
                .singleElement().satisfies(e -> assertThat(e.decision()).isEqualTo("allow"));
        assertThat(report.entries()).filteredOn(e -> !e.parsed())
                .singleElement().satisfies(e -> assertThat(e.decision()).isEqualTo("deny"));
        // The same fingerprint by day and by night: two outcomes, two entries.
        assertThat(report.entries()).filteredOn(e -> e.user().equals("ana") && e.sql().startsWith("select id from app.orders"))
                .extracting(DryRunReport.Entry::decision).containsExactlyInAnyOrder("allow", "deny");
    }

    @Test
    void againstABaselineOnlyChangedDecisionsAreListedAndCounted() {
        PolicySet before = compile("""
                allow any select on app.orders;
                allow any delete on app.orders;
                """);
        PolicySet after = compile("""
                allow any select on app.orders;
                @id("keep-orders") deny any delete on app.orders;
                allow any insert on app.orders;
                mask any app.orders.card with partial(0, "****", 4);
                """);
        DryRun run = new DryRun(after, Optional.of(before), user -> Set.of(), analyzer);
        for (int i = 0; i < 3; i++) {
            run.statement(statement("app", "DELETE FROM app.orders WHERE id = " + i, MORNING));
        }
        run.statement(statement("app", "INSERT INTO app.orders (id) VALUES (1)", MORNING));
        run.statement(statement("app", "SELECT card FROM app.orders", MORNING));
        run.statement(statement("app", "SELECT id FROM app.orders", MORNING));

        DryRunReport report = run.report();
        assertThat(report.changes()).hasValueSatisfying(changes -> {
            assertThat(changes).extracting(DryRunReport.ChangeEntry::change)
                    .containsExactly(Change.NEWLY_DENIED, Change.NEWLY_ALLOWED, Change.MASK_CHANGED);
            assertThat(changes.get(0).count()).isEqualTo(3);
            assertThat(changes.get(0).rulesAfter()).containsExactly("keep-orders");
            assertThat(changes.get(1).rulesBefore()).isEmpty();
            assertThat(changes.get(2).masksAfter()).containsEntry("app.orders.card", "partial(0, \"****\", 4)");
        });
        assertThat(report.count(Change.NEWLY_DENIED)).isEqualTo(3);
        assertThat(report.count(Change.NEWLY_ALLOWED)).isEqualTo(1);
        assertThat(report.count(Change.MASK_CHANGED)).isEqualTo(1);
    }
}
