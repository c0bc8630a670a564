package dev.pgpolicy.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpolicy.lang.Effect;
import dev.pgpolicy.lang.LimitKind;
import dev.pgpolicy.sql.Action;
import dev.pgpolicy.sql.Clause;
import dev.pgpolicy.sql.Heuristic;
import dev.pgpolicy.sql.QueryAnalysis;
import dev.pgpolicy.sql.StatementKind;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class EvaluationTest {

    private static final Instant OFFICE_HOURS = Instant.parse("2026-03-04T10:00:00Z");
    private static final Instant NIGHT = Instant.parse("2026-03-04T22:00:00Z");
    private static final NameResolver PUBLIC = SearchPathResolver.defaultPath();

    private static final PolicySet EXAMPLE = PolicyCompiler.compile(List.of(
            new SourceFile("example.pgpolicy", Policies.resource("language-example.pgpolicy")))).policySet().orElseThrow();

    static InetAddress ip(String text) {
        try {
            return InetAddress.getByName(text);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    static SessionContext analyst() {
        return SessionContext.of("ana", OFFICE_HOURS).withGroups(Set.of("bi_readers")).withClientIp(ip("10.1.2.3"));
    }

    static SessionContext app() {
        return SessionContext.of("payments_svc", OFFICE_HOURS).withClientIp(ip("10.20.4.5"));
    }

    static SessionContext dba() {
        return SessionContext.of("dora", OFFICE_HOURS).withGroups(Set.of("dba")).withAuth("cert", true, "dora")
                .withClientIp(ip("10.9.9.9"));
    }

    static Decision decide(PolicySet set, SessionContext session, QueryAnalysis query) {
        return set.evaluate(session, query, PUBLIC);
    }

    private static QueryAnalysis selectCustomers(String column, Clause clause) {
        return Facts.of(StatementKind.SELECT).table("payments.customers", Action.SELECT)
                .column("payments.customers", column, clause).query();
    }

    @Test
    void analystReadsCustomersWithMaskedEmail() {
        Decision decision = decide(EXAMPLE, analyst(), Facts.of(StatementKind.SELECT)
                .table("payments.customers", Action.SELECT)
                .column("payments.customers", "email", Clause.PROJECTION)
                .column("payments.customers", "id", Clause.FILTER).query());
        assertThat(decision.effect()).isEqualTo(Effect.ALLOW);
        assertThat(decision.ruleIds()).containsExactly("example.pgpolicy:7");
        assertThat(decision.reason()).isEmpty();
        assertThat(decision.masks()).containsOnlyKeys("payments.customers.email");
        assertThat(decision.masks().get("payments.customers.email").toString()).isEqualTo("email()");
        assertThat(decision.maskSet().maskFor("payments", "customers", "ssn")).map(MaskSpec::toString)
                .contains("redact(\"***-**-****\")");
        assertThat(decision.maskSet().maskFor("payments", "customers", "card_number")).map(MaskSpec::toString)
                .contains("partial(0, \"XXXX-XXXX-XXXX-\", 4)");
        assertThat(decision.maskSet().maskFor("payments", "orders", "email")).isEmpty();
    }

    @Test
    void filterOnSsnIsDeniedButReadingItIsMasked() {
        Decision filtered = decide(EXAMPLE, analyst(), selectCustomers("ssn", Clause.FILTER));
        assertThat(filtered.effect()).isEqualTo(Effect.DENY);
        assertThat(filtered.ruleIds()).containsExactly("no-ssn-filter");
        assertThat(filtered.reason()).isEqualTo("denied by rule no-ssn-filter");
        assertThat(filtered.auditLevel()).isEqualTo(AuditLevel.STATEMENTS);

        Decision projected = decide(EXAMPLE, analyst(), selectCustomers("ssn", Clause.PROJECTION));
        assertThat(projected.allowed()).isTrue();
        assertThat(projected.masks()).containsEntry("payments.customers.ssn",
                new MaskSpec(MaskFunction.REDACT, List.of("***-**-****")));
    }

    @Test
    void maskedColumnInsideAnExpressionIsDenied() {
        QueryAnalysis upper = Facts.of(StatementKind.SELECT).table("payments.customers", Action.SELECT)
                .expression("payments.customers", "ssn").function("upper").query();
        PolicySet set = Policies.compile(Policies.resource("language-example.pgpolicy") + "allow any call on function pg_catalog.upper;");
        Decision analyst = set.evaluate(analyst(), upper, PUBLIC);
        assertThat(analyst.effect()).isEqualTo(Effect.DENY);
        assertThat(analyst.ruleIds()).containsExactly("p.pgpolicy:18");
        assertThat(analyst.reason()).isEqualTo("column payments.customers.ssn is masked for this session and cannot be"
                + " used inside an expression");
        assertThat(set.evaluate(dba(), upper, PUBLIC).allowed()).isTrue();
    }

    @Test
    void filterDenyAlsoCatchesAColumnTheAnalyserCouldNotAttribute() {
        Decision decision = decide(EXAMPLE, analyst(), Facts.of(StatementKind.SELECT)
                .table("payments.customers", Action.SELECT).table("payments.orders", Action.SELECT)
                .column(null, "ssn", Clause.FILTER).query());
        assertThat(decision.ruleIds()).containsExactly("no-ssn-filter");
    }

    @Test
    void defaultDenyNamesTheUncoveredRequest() {
        Decision decision = decide(EXAMPLE, analyst(), Facts.of(StatementKind.SELECT)
                .table("payments.orders", Action.SELECT).table("payments.secrets", Action.SELECT).query());
        assertThat(decision.effect()).isEqualTo(Effect.DENY);
        assertThat(decision.ruleIds()).isEmpty();
        assertThat(decision.reason()).isEqualTo("no allow rule covers select on payments.secrets");
    }

    @Test
    void timeConditionsUseTheSessionClock() {
        Decision night = decide(EXAMPLE, analyst().withTime(NIGHT), selectCustomers("email", Clause.PROJECTION));
        assertThat(night.effect()).isEqualTo(Effect.DENY);
        assertThat(EXAMPLE.principalClass(analyst()).timeDependent()).isTrue();
    }

    @Test
    void denyAlwaysWinsOverAllow() {
        PolicySet set = Policies.compile("""
                allow any select;
                allow any select on public.x;
                @id("no-x") @reason("x is secret")
                deny any select on x;
                """);
        Decision decision = decide(set, SessionContext.of("u", OFFICE_HOURS),
                Facts.of(StatementKind.SELECT).table("x", Action.SELECT).table("y", Action.SELECT).query());
        assertThat(decision.effect()).isEqualTo(Effect.DENY);
        assertThat(decision.ruleIds()).containsExactly("no-x");
        assertThat(decision.reason()).isEqualTo("x is secret");
    }

    @Test
    void firstDeterminingDenyGivesTheReason() {
        PolicySet set = Policies.compile("""
                allow any all;
                @id("b") @reason("second") deny any select on t2;
                @id("a") @reason("first") deny any select on t1;
                """);
        Decision decision = decide(set, SessionContext.of("u", OFFICE_HOURS), Facts.of(StatementKind.SELECT)
                .table("t1", Action.SELECT).table("t2", Action.SELECT).query());
        assertThat(decision.ruleIds()).containsExactly("b", "a");
        assertThat(decision.reason()).isEqualTo("second");
    }

    @Test
    void ddlIsDeniedForEveryoneButTheDba() {
        QueryAnalysis drop = Facts.of(StatementKind.DDL).table("payments.orders", Action.DDL).text("DROP TABLE payments.orders").query();
        Decision app = decide(EXAMPLE, app(), drop);
        assertThat(app.ruleIds()).containsExactly("no-ddl");
        assertThat(app.reason()).isEqualTo("schema changes go through migrations");
        assertThat(decide(EXAMPLE, dba(), drop).allowed()).isTrue();
        Decision createSchema = decide(EXAMPLE, app(), Facts.of(StatementKind.DDL).text("CREATE SCHEMA s").query());
        assertThat(createSchema.ruleIds()).containsExactly("no-ddl");
    }

    @Test
    void fileFunctionsAreDeniedEvenToTheDba() {
        for (String function : List.of("pg_read_file", "pg_catalog.pg_ls_dir", "lo_import", "dblink_connect")) {
            Decision decision = decide(EXAMPLE, dba(), Facts.of(StatementKind.SELECT).function(function).query());
            assertThat(decision.ruleIds()).as(function).containsExactly("no-file-access");
        }
    }

    @Test
    void appReadsAndWritesItsSchemaOnly() {
        assertThat(decide(EXAMPLE, app(), Facts.of(StatementKind.INSERT).table("payments.orders", Action.INSERT)
                .table("payments.customers", Action.SELECT).query()).allowed()).isTrue();
        Decision other = decide(EXAMPLE, app(), Facts.of(StatementKind.DELETE).table("hr.salaries", Action.DELETE).query());
        assertThat(other.reason()).isEqualTo("no allow rule covers delete on hr.salaries");
        SessionContext elsewhere = app().withClientIp(ip("192.168.1.1"));
        assertThat(decide(EXAMPLE, elsewhere, Facts.of(StatementKind.SELECT)
                .table("payments.orders", Action.SELECT).query()).allowed()).isFalse();
    }

    @Test
    void sessionStatementsAreAllowedToAnyoneButSetRoleIsDcl() {
        SessionContext nobody = SessionContext.of("nobody", OFFICE_HOURS);
        assertThat(decide(EXAMPLE, nobody, Facts.of(StatementKind.SET).text("SET search_path = $1").query()).allowed()).isTrue();
        assertThat(decide(EXAMPLE, nobody, Facts.of(StatementKind.TRANSACTION).text("BEGIN").query()).allowed()).isTrue();
        assertThat(decide(EXAMPLE, nobody, Facts.of(StatementKind.SHOW).text("SHOW TimeZone").query()).allowed()).isTrue();
        assertThat(decide(EXAMPLE, nobody, Facts.of(StatementKind.SET)
                .text("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE").query()).allowed()).isTrue();
        for (String text : List.of("SET ROLE admin", "set session authorization admin", "/* x */ SET LOCAL ROLE admin",
                "RESET ROLE", "SET SESSION ROLE admin")) {
            Decision decision = decide(EXAMPLE, nobody, Facts.of(text.contains("RESET") ? StatementKind.RESET : StatementKind.SET)
                    .text(text).query());
            assertThat(decision.reason()).as(text).isEqualTo("no allow rule covers dcl");
        }
    }

    @Test
    void explainNeedsExplainAndTheExplainedStatementsRights() {
        PolicySet set = Policies.compile("allow any explain; allow any select on public.t;");
        SessionContext user = SessionContext.of("u", OFFICE_HOURS);
        assertThat(decide(set, user, Facts.of(StatementKind.EXPLAIN).table("t", Action.SELECT).query()).allowed()).isTrue();
        Decision other = decide(set, user, Facts.of(StatementKind.EXPLAIN).table("u", Action.SELECT).query());
        assertThat(other.reason()).isEqualTo("no allow rule covers select on public.u");
    }

    @Test
    void unparsedStatementsMeetTheGuardAndTheirVisibleObjectsMeetDenies() {
        QueryAnalysis unparsed = Facts.of(StatementKind.SELECT).unparsed().table("payments.orders", Action.SELECT).query();
        Decision analyst = decide(EXAMPLE, analyst(), unparsed);
        assertThat(analyst.ruleIds()).containsExactly("guard.unparsed");
        assertThat(analyst.reason()).isEqualTo("guard unparsed: the statement could not be analysed");

        Decision dba = decide(EXAMPLE, dba(), unparsed);
        assertThat(dba.allowed()).isTrue();
        assertThat(dba.findings()).containsExactly(new GuardFinding(Heuristic.UNPARSED, GuardAction.WARN, "guard.unparsed", false));

        Decision ddl = decide(EXAMPLE, dba(), Facts.of(StatementKind.SELECT).unparsed().function("pg_read_file").query());
        assertThat(ddl.ruleIds()).containsExactly("no-file-access");

        PolicySet noGuard = Policies.compile("allow any all;");
        assertThat(decide(noGuard, analyst(), unparsed).ruleIds()).containsExactly("guard.unparsed");
        PolicySet unknownKind = Policies.compile("allow any all; guard any unparsed warn; deny any ddl;");
        assertThat(decide(unknownKind, analyst(), Facts.of(StatementKind.DDL).unparsed().query()).effect())
                .isEqualTo(Effect.DENY);
    }

    @Test
    void stackedStatementsAreAMessageLevelFinding() {
        QueryAnalysis stacked = Facts.stacked(
                Facts.of(StatementKind.SELECT).table("payments.orders", Action.SELECT).build(),
                Facts.of(StatementKind.SELECT).table("payments.customers", Action.SELECT).build());
        Decision analyst = decide(EXAMPLE, analyst(), stacked);
        assertThat(analyst.effect()).isEqualTo(Effect.DENY);
        assertThat(analyst.ruleIds()).containsExactly("guard.stacked_statements");
        assertThat(decide(EXAMPLE, dba(), stacked).allowed()).isTrue();
    }

    @Test
    void aMessageIsAllowedOnlyIfEveryStatementIs() {
        Decision decision = decide(EXAMPLE, analyst(), Facts.query(
                Facts.of(StatementKind.SELECT).table("payments.orders", Action.SELECT).build(),
                Facts.of(StatementKind.UPDATE).table("payments.orders", Action.UPDATE).build()));
        assertThat(decision.effect()).isEqualTo(Effect.DENY);
        assertThat(decision.reason()).isEqualTo("no allow rule covers update on payments.orders");
        assertThat(decide(EXAMPLE, analyst(), new QueryAnalysis(List.of(), Set.of())).allowed()).isTrue();
    }

    @Test
    void guardStrongestActionWins() {
        PolicySet set = Policies.compile("""
                role analyst = "bi" in groups;
                allow any all;
                guard any tautology warn;
                guard analyst tautology deny;
                guard any sleep off;
                guard any sleep warn;
                """);
        QueryAnalysis query = Facts.of(StatementKind.SELECT).table("t", Action.SELECT)
                .finding(Heuristic.TAUTOLOGY).finding(Heuristic.SLEEP).query();
        Decision analyst = decide(set, SessionContext.of("a", OFFICE_HOURS).withGroups(Set.of("bi")), query);
        assertThat(analyst.ruleIds()).containsExactly("guard.tautology");
        assertThat(analyst.reason()).isEqualTo("guard tautology: an always-true OR branch in a condition");
        Decision other = decide(set, SessionContext.of("o", OFFICE_HOURS), query);
        assertThat(other.allowed()).isTrue();
        assertThat(other.findings()).extracting(GuardFinding::heuristic, GuardFinding::action).containsExactly(
                org.assertj.core.groups.Tuple.tuple(Heuristic.TAUTOLOGY, GuardAction.WARN),
                org.assertj.core.groups.Tuple.tuple(Heuristic.SLEEP, GuardAction.WARN));
    }

    @Test
    void limitsSmallestWinsPerDimension() {
        PolicySet set = Policies.compile("""
                role analyst = "bi" in groups;
                limit any { rows 100 per query; queries 50 per second per user; idle 15m; }
                limit analyst { rows 10 per query; queries 20 per second per client_ip; idle 1h; statement_timeout 30s; }
                """);
        PrincipalClass analyst = set.principalClass(SessionContext.of("a", OFFICE_HOURS).withGroups(Set.of("bi")));
        assertThat(set.limits(analyst)).containsExactlyInAnyOrder(
                new EffectiveLimit(LimitKind.ROWS_PER_QUERY, LimitScope.NONE, 10, null, "p.pgpolicy:3"),
                new EffectiveLimit(LimitKind.QUERIES_PER_SECOND, LimitScope.USER, 50, null, "p.pgpolicy:2"),
                new EffectiveLimit(LimitKind.QUERIES_PER_SECOND, LimitScope.CLIENT_IP, 20, null, "p.pgpolicy:3"),
                new EffectiveLimit(LimitKind.IDLE, LimitScope.NONE, 0, Duration.ofMinutes(15), "p.pgpolicy:2"),
                new EffectiveLimit(LimitKind.STATEMENT_TIMEOUT, LimitScope.NONE, 0, Duration.ofSeconds(30), "p.pgpolicy:3"));
        assertThat(set.limits(set.principalClass(SessionContext.of("o", OFFICE_HOURS)))).hasSize(3);
    }

    @Test
    void auditHighestLevelWinsAndDenialsAreAtLeastStatements() {
        QueryAnalysis read = Facts.of(StatementKind.SELECT).table("payments.orders", Action.SELECT).query();
        assertThat(decide(EXAMPLE, app(), read).auditLevel()).isEqualTo(AuditLevel.METADATA);
        assertThat(decide(EXAMPLE, analyst(), read).auditLevel()).isEqualTo(AuditLevel.STATEMENTS);
        assertThat(decide(EXAMPLE, dba(), read).auditLevel()).isEqualTo(AuditLevel.FULL);
        Decision denied = decide(EXAMPLE, app(), Facts.of(StatementKind.DDL).table("payments.orders", Action.DDL).query());
        assertThat(denied.auditLevel()).isEqualTo(AuditLevel.STATEMENTS);
        PolicySet quiet = Policies.compile("allow any select;");
        assertThat(decide(quiet, app(), read).auditLevel()).isEqualTo(AuditLevel.NONE);
        assertThat(decide(quiet, app(), Facts.of(StatementKind.DELETE).table("t", Action.DELETE).query()).auditLevel())
                .isEqualTo(AuditLevel.STATEMENTS);
    }

    @Test
    void detectModeFileRecordsButDoesNotEnforce() {
        CompileResult result = PolicyCompiler.compile(List.of(
                new SourceFile("base.pgpolicy", "allow any all;"),
                new SourceFile("new.pgpolicy", """
                        mode detect;
                        @id("no-drop") deny any ddl;
                        guard any tautology deny;
                        mask any t.secret with null();
                        limit any { rows 1 per query; }
                        """)));
        PolicySet set = result.policySet().orElseThrow();
        Decision decision = decide(set, SessionContext.of("u", OFFICE_HOURS), Facts.of(StatementKind.DDL)
                .table("t", Action.DDL).finding(Heuristic.TAUTOLOGY).column("t", "secret", Clause.PROJECTION).query());
        assertThat(decision.effect()).isEqualTo(Effect.ALLOW);
        assertThat(decision.wouldDeny()).isTrue();
        assertThat(decision.detectRuleIds()).containsExactlyInAnyOrder("no-drop", "guard.tautology", "new.pgpolicy:4");
        assertThat(decision.masks()).isEmpty();
        assertThat(decision.limits()).isEmpty();
        assertThat(decision.findings()).containsExactly(new GuardFinding(Heuristic.TAUTOLOGY, GuardAction.DENY,
                "guard.tautology", true));
        assertThat(decision.auditLevel()).isEqualTo(AuditLevel.STATEMENTS);
    }

    @Test
    void detectModePerRuleAndForAWholeSet() {
        PolicySet set = Policies.compile("""
                allow any all;
                @id("soft") @mode(detect) deny any ddl;
                @id("hard") deny any dcl;
                """);
        SessionContext user = SessionContext.of("u", OFFICE_HOURS);
        Decision soft = decide(set, user, Facts.of(StatementKind.DDL).text("CREATE SCHEMA s").query());
        assertThat(soft.allowed()).isTrue();
        assertThat(soft.detectRuleIds()).containsExactly("soft");
        assertThat(decide(set, user, Facts.of(StatementKind.DCL).text("GRANT x TO y").query()).ruleIds()).containsExactly("hard");

        PolicySet trial = Policies.compile("mode detect; allow any select on t;");
        Decision uncovered = decide(trial, user, Facts.of(StatementKind.DELETE).table("t", Action.DELETE).query());
        assertThat(uncovered.allowed()).isTrue();
        assertThat(uncovered.wouldDeny()).isTrue();
        assertThat(trial.detectOnly()).isTrue();
    }

    @Test
    void evaluationErrorsFailClosed() {
        PolicySet set = Policies.compile("""
                role certified = cert_cn == "svc";
                allow certified select;
                @id("uncertified-no-dcl") deny !certified dcl;
                @id("certified-no-ddl") deny certified ddl;
                allow any ddl, dcl;
                """);
        SessionContext noCertificate = SessionContext.of("u", OFFICE_HOURS);
        assertThat(noCertificate.certCn()).isNull();
        assertThat(decide(set, noCertificate, Facts.of(StatementKind.SELECT).table("t", Action.SELECT).query()).allowed())
                .isFalse();
        assertThat(decide(set, noCertificate, Facts.of(StatementKind.DDL).text("CREATE SCHEMA s").query()).ruleIds())
                .containsExactly("certified-no-ddl");
        assertThat(decide(set, noCertificate, Facts.of(StatementKind.DCL).text("GRANT a TO b").query()).ruleIds())
                .containsExactly("uncertified-no-dcl");
    }

    @Test
    void runawayRegexIsAnErrorNotAHang() {
        PolicySet set = Policies.compile("""
                role evil = user matches "(.*a){15}$";
                allow evil select;
                @id("evil-deny") deny evil delete;
                allow any delete;
                """);
        SessionContext attacker = SessionContext.of("a".repeat(40) + "!", OFFICE_HOURS);
        assertThat(decide(set, attacker, Facts.of(StatementKind.SELECT).table("t", Action.SELECT).query()).allowed()).isFalse();
        assertThat(decide(set, attacker, Facts.of(StatementKind.DELETE).table("t", Action.DELETE).query()).ruleIds())
                .containsExactly("evil-deny");
    }

    @Test
    void tableAllowCoversItsColumnsAndColumnAllowsCoverNamedColumns() {
        PolicySet set = Policies.compile("""
                allow any select on public.wide;
                allow any select on column public.narrow.a, column narrow.b;
                @id("no-c") deny any select on column wide.c;
                """);
        SessionContext user = SessionContext.of("u", OFFICE_HOURS);
        assertThat(decide(set, user, Facts.of(StatementKind.SELECT).table("wide", Action.SELECT)
                .column("wide", "a", Clause.PROJECTION).query()).ruleIds()).containsExactly("p.pgpolicy:1");
        assertThat(decide(set, user, Facts.of(StatementKind.SELECT).table("wide", Action.SELECT)
                .column("wide", "c", Clause.PROJECTION).query()).ruleIds()).containsExactly("no-c");
        assertThat(decide(set, user, Facts.of(StatementKind.SELECT).table("wide", Action.SELECT)
                .column("wide", "*", Clause.PROJECTION).query()).ruleIds()).containsExactly("no-c");
        assertThat(decide(set, user, Facts.of(StatementKind.SELECT).table("narrow", Action.SELECT)
                .column("narrow", "a", Clause.PROJECTION).column("narrow", "b", Clause.FILTER).query()).allowed()).isTrue();
        assertThat(decide(set, user, Facts.of(StatementKind.SELECT).table("narrow", Action.SELECT)
                .column("narrow", "a", Clause.PROJECTION).column("narrow", "c", Clause.PROJECTION).query()).allowed()).isFalse();
        assertThat(decide(set, user, Facts.of(StatementKind.SELECT).table("narrow", Action.SELECT)
                .column("narrow", "*", Clause.PROJECTION).query()).allowed()).isFalse();
        assertThat(decide(set, user, Facts.of(StatementKind.SELECT).table("narrow", Action.SELECT).query()).allowed()).isFalse();
    }

    @Test
    void masksDependOnThePrincipalAndTheMostRestrictiveWins() {
        PolicySet set = Policies.compile("""
                role analyst = "bi" in groups;
                role dba = "dba" in groups;
                allow any select;
                mask any t.c with email();
                mask analyst t.c with null();
                mask !dba t.d with hash();
                mask analyst t.e with partial(1, "*", 1) when tls;
                """);
        QueryAnalysis query = Facts.of(StatementKind.SELECT).table("t", Action.SELECT)
                .column("t", "c", Clause.PROJECTION).column("t", "d", Clause.RETURNING)
                .column("t", "e", Clause.PROJECTION).column("t", "c", Clause.FILTER).query();
        SessionContext analyst = SessionContext.of("a", OFFICE_HOURS).withGroups(Set.of("bi"));
        assertThat(decide(set, analyst, query).masks()).isEqualTo(java.util.Map.of(
                "public.t.c", new MaskSpec(MaskFunction.NULL, List.of()),
                "public.t.d", new MaskSpec(MaskFunction.HASH, List.of())));
        assertThat(decide(set, analyst.withAuth("scram", true, null), query).masks()).containsEntry(
                "public.t.e", new MaskSpec(MaskFunction.PARTIAL, List.of(1L, "*", 1L)));
        assertThat(decide(set, SessionContext.of("d", OFFICE_HOURS).withGroups(Set.of("dba")), query).masks())
                .isEqualTo(java.util.Map.of("public.t.c", new MaskSpec(MaskFunction.EMAIL, List.of())));
    }

    @Test
    void uncertainSchemasMatchDeniesButNotSchemaBoundAllows() {
        PolicySet set = Policies.compile("""
                allow any select on a.orders;
                allow any select on items;
                allow any select on *.stock;
                @id("no-b-orders") deny any delete on b.orders;
                allow any delete;
                """);
        SessionContext user = SessionContext.of("u", OFFICE_HOURS);
        NameResolver twoSchemas = SearchPathResolver.offline(List.of("\"$user\"", "a", "b"));
        Decision orders = set.evaluate(user, Facts.of(StatementKind.SELECT).table("orders", Action.SELECT).query(), twoSchemas);
        assertThat(orders.allowed()).isFalse();
        assertThat(orders.reason()).startsWith("no allow rule covers select on ?.orders (the schema of orders is not certain");
        assertThat(set.evaluate(user, Facts.of(StatementKind.SELECT).table("items", Action.SELECT).query(), twoSchemas)
                .allowed()).isTrue();
        assertThat(set.evaluate(user, Facts.of(StatementKind.SELECT).table("stock", Action.SELECT).query(), twoSchemas)
                .allowed()).isTrue();
        assertThat(set.evaluate(user, Facts.of(StatementKind.DELETE).table("orders", Action.DELETE).query(), twoSchemas)
                .ruleIds()).containsExactly("no-b-orders");
        assertThat(set.evaluate(user, Facts.of(StatementKind.SELECT).table("a.orders", Action.SELECT).query(), twoSchemas)
                .allowed()).isTrue();
        NameResolver nothingKnown = new NameResolver() {
            @Override
            public ResolvedName relation(dev.pgpolicy.sql.ObjectName name) {
                return ResolvedName.unknown(name.name());
            }

            @Override
            public ResolvedName function(dev.pgpolicy.sql.ObjectName name) {
                return ResolvedName.unknown(name.name());
            }
        };
        assertThat(set.evaluate(user, Facts.of(StatementKind.DELETE).table("b.orders", Action.DELETE).query(), nothingKnown)
                .ruleIds()).containsExactly("no-b-orders");
        assertThat(set.evaluate(user, Facts.of(StatementKind.SELECT).table("orders", Action.SELECT).query(), nothingKnown)
                .allowed()).isFalse();
    }

    @Test
    void catalogNamesResolveToPgCatalog() {
        PolicySet set = Policies.compile("""
                allow any select, call;
                @id("no-catalog") deny any select on pg_catalog.pg_*;
                @id("no-version") deny any call on function pg_catalog.version;
                """);
        SessionContext user = SessionContext.of("u", OFFICE_HOURS);
        assertThat(decide(set, user, Facts.of(StatementKind.SELECT).table("pg_shadow", Action.SELECT).query()).ruleIds())
                .containsExactly("no-catalog");
        assertThat(decide(set, user, Facts.of(StatementKind.SELECT).function("version").query()).ruleIds())
                .containsExactly("no-version");
        assertThat(decide(set, user, Facts.of(StatementKind.SELECT).table("orders", Action.SELECT)
                .function("my_fn").query()).allowed()).isTrue();
    }

    @Test
    void databaseAndSchemaResources() {
        PolicySet set = Policies.compile("""
                allow any select on database shop;
                allow any insert on schema staging;
                """);
        SessionContext shop = SessionContext.of("u", OFFICE_HOURS).withDatabase("shop");
        QueryAnalysis read = Facts.of(StatementKind.SELECT).table("x.y", Action.SELECT).query();
        assertThat(decide(set, shop, read).allowed()).isTrue();
        assertThat(decide(set, shop.withDatabase("other"), read).allowed()).isFalse();
        assertThat(decide(set, shop, Facts.of(StatementKind.INSERT).table("staging.t", Action.INSERT).query()).allowed()).isTrue();
        assertThat(decide(set, shop, Facts.of(StatementKind.INSERT).table("t", Action.INSERT).query()).allowed()).isFalse();
    }

    @Test
    void principalClassesGroupSessionsThatDecideAlike() {
        PrincipalClass ana = EXAMPLE.principalClass(analyst());
        PrincipalClass bob = EXAMPLE.principalClass(SessionContext.of("bob", OFFICE_HOURS)
                .withGroups(Set.of("bi_readers", "other")).withClientIp(ip("10.7.7.7")));
        PrincipalClass app = EXAMPLE.principalClass(app());
        assertThat(ana).isEqualTo(bob).hasSameHashCodeAs(bob).isNotEqualTo(app);
        QueryAnalysis query = selectCustomers("email", Clause.PROJECTION);
        assertThat(EXAMPLE.evaluate(ana, query, PUBLIC)).isEqualTo(EXAMPLE.evaluate(bob, query, PUBLIC));
        PolicySet timeless = Policies.compile("role r = user == \"x\"; allow r select;");
        assertThat(timeless.timeDependent()).isFalse();
        assertThat(timeless.principalClass(analyst()).timeDependent()).isFalse();
    }

    @Test
    void aPrincipalClassFromAnotherRevisionIsRefused() {
        PolicySet other = Policies.compile("allow any all;");
        Decision decision = EXAMPLE.evaluate(other.principalClass(analyst()),
                Facts.of(StatementKind.SELECT).table("payments.orders", Action.SELECT).query(), PUBLIC);
        assertThat(decision.effect()).isEqualTo(Effect.DENY);
        assertThat(decision.reason()).contains("principal class was computed for policy revision");
        org.assertj.core.api.Assertions.assertThatIllegalArgumentException()
                .isThrownBy(() -> EXAMPLE.limits(other.principalClass(analyst())));
        PolicySet sameContent = PolicyCompiler.compile(List.of(new SourceFile("example.pgpolicy",
                Policies.resource("language-example.pgpolicy")))).policySet().orElseThrow();
        assertThat(sameContent.limits(EXAMPLE.principalClass(analyst()))).isEqualTo(EXAMPLE.limits(EXAMPLE.principalClass(analyst())));
    }

    @Test
    void explainListsEveryRequestWithItsRules() {
        Explanation explanation = EXAMPLE.explain(analyst(), Facts.of(StatementKind.SELECT)
                .table("payments.customers", Action.SELECT)
                .column("payments.customers", "ssn", Clause.FILTER)
                .function("lower").query(), PUBLIC);
        assertThat(explanation.decision().ruleIds()).containsExactly("no-ssn-filter");
        List<RequestTrace> requests = explanation.statements().get(0).requests();
        assertThat(requests).extracting(t -> t.request().toString()).containsExactly(
                "select on payments.customers",
                "call on function pg_catalog.lower",
                "filter on column payments.customers.ssn",
                "select on column payments.customers.ssn");
        assertThat(requests.get(0).allowRuleIds()).containsExactly("example.pgpolicy:7");
        assertThat(requests.get(1).covered()).isFalse();
        assertThat(requests.get(2).denyRuleIds()).containsExactly("no-ssn-filter");
    }

    @Test
    void explainListsEveryRuleThatApplied() {
        Explanation explanation = EXAMPLE.explain(analyst(), Facts.stacked(Facts.of(StatementKind.SELECT)
                .table("payments.customers", Action.SELECT)
                .column("payments.customers", "email", Clause.PROJECTION)
                .column("payments.customers", "ssn", Clause.FILTER).finding(Heuristic.TAUTOLOGY).build()), PUBLIC);
        assertThat(explanation.matchedRuleIds()).containsExactly(
                "example.pgpolicy:7", "no-ssn-filter", "example.pgpolicy:17",
                "example.pgpolicy:21", "example.pgpolicy:22", "example.pgpolicy:24", "example.pgpolicy:25",
                "example.pgpolicy:30", "example.pgpolicy:31");
        assertThat(explanation.messageFindings()).extracting(GuardFinding::ruleId).containsExactly("guard.stacked_statements");
        assertThat(EXAMPLE.evaluate(analyst(), Facts.of(StatementKind.SELECT).query(), PUBLIC).allowed()).isTrue();
    }

    @Test
    void copyActionsAndCalls() {
        PolicySet set = Policies.compile("""
                allow any read;
                allow any call on function public.*;
                """);
        SessionContext user = SessionContext.of("u", OFFICE_HOURS);
        assertThat(decide(set, user, Facts.of(StatementKind.COPY).table("t", Action.COPY_OUT).query()).allowed()).isTrue();
        assertThat(decide(set, user, Facts.of(StatementKind.COPY).table("t", Action.COPY_IN).query()).allowed()).isFalse();
        assertThat(decide(set, user, Facts.of(StatementKind.CALL).function("proc").query()).allowed()).isTrue();
        assertThat(decide(set, user, Facts.of(StatementKind.CALL).function("other.proc").query()).allowed()).isFalse();
        assertThat(decide(set, user, Facts.of(StatementKind.DO).text("DO $1").query()).reason())
                .isEqualTo("no allow rule covers do");
    }
}
