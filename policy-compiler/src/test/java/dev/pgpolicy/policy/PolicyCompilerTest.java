package dev.pgpolicy.policy;

import static dev.pgpolicy.policy.Policies.diagnostics;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpolicy.lang.Diagnostic;
import java.util.List;
import org.junit.jupiter.api.Test;

class PolicyCompilerTest {

    private static final String ROLES = """
            role analyst = "bi" in groups;
            role dba = "dba" in groups;
            """;

    @Test
    void languageExampleCompilesWithoutDiagnostics() {
        PolicySet set = Policies.compile(Policies.resource("language-example.pgpolicy"));
        assertThat(set.ruleIds()).contains("no-ddl", "no-file-access", "no-ssn-filter");
        assertThat(set.timeDependent()).isTrue();
        assertThat(set.revision()).hasSize(64);
    }

    @Test
    void everyConstructCompiles() {
        PolicySet set = Policies.compile("""
                mode enforce;
                role a = user == "x" and db_user != "y" and database == "d" and application_name starts_with "psql"
                      and client_ip in 10.0.0.0/8 and client_ip not in (::1, 192.168.0.0/16) and auth in ("scram", "cert")
                      and tls and not (cert_cn matches "^svc-[a-z]+$") and hour >= 7 and hour < 20
                      and weekday between mon and fri and weekday != "sat" and now < "2030-01-01T00:00:00Z"
                      and "ops" in groups and "x" not in groups and client_ip == 10.1.2.3 and tls == true;
                role b = a or hour between 22 and 6 or weekday in (sat, sun);
                @id("r1") @reason("because") @mode(detect)
                allow a, !b read, write, session, call, filter, ddl, dcl, do, listen, notify, maintenance, alter_system,
                    load, explain, lock, prepare, show, unparsed, copy_program, merge
                    on table s.t, column s.t.c, function f, schema s, database d, table *.audit_*, pg_read_*
                    when tls unless hour == 3;
                deny any all;
                mask a payments.c.email, column t.c with email();
                mask a x.y with partial(1, "**", 2);
                mask a x.z with redact();
                mask a x.w with redact("--");
                mask a x.v with hash();
                mask a x.u with null();
                mask a x.s with regex("([a-z]+)@(.*)", "$1@***") when hour > 2;
                limit a { queries 5 per second per role; queries 6 per second per client_ip; concurrent 2 per user;
                          connections 3 per user; connections 4 per client_ip; rows 10 per query;
                          statement_timeout 250ms; idle 1m; idle_in_transaction 2h; }
                guard a stacked_statements deny; guard a tautology warn; guard a union_probe off;
                guard any comment_after_literal deny; guard any sleep deny; guard any catalog_probe warn;
                guard any file_access deny; guard any program_exec deny; guard any unparsed deny;
                audit a none; audit a connections; audit a metadata; audit a statements; audit a full;
                """);
        assertThat(set.ruleIds()).contains("r1", "p.pgpolicy:13");
    }

    @Test
    void revisionIgnoresFileOrderAndFollowsContent() {
        SourceFile a = new SourceFile("a.pgpolicy", "allow any session;");
        SourceFile b = new SourceFile("b.pgpolicy", "deny any ddl;");
        String ab = PolicyCompiler.compile(List.of(a, b)).policySet().orElseThrow().revision();
        String ba = PolicyCompiler.compile(List.of(b, a)).policySet().orElseThrow().revision();
        String changed = PolicyCompiler.compile(List.of(a, new SourceFile("b.pgpolicy", "deny any dcl;")))
                .policySet().orElseThrow().revision();
        assertThat(ab).isEqualTo(ba).isNotEqualTo(changed);
    }

    @Test
    void rolesAndRulesMayLiveInDifferentFiles() {
        CompileResult result = PolicyCompiler.compile(List.of(
                new SourceFile("rules.pgpolicy", "allow analyst select;"),
                new SourceFile("roles.pgpolicy", "role analyst = \"bi\" in groups;")));
        assertThat(result.diagnostics()).isEmpty();
    }

    @Test
    void unknownRole() {
        assertThat(diagnostics(ROLES + "allow analyst, !dbas select;")).containsExactly(
                "p.pgpolicy:3:16: error: unknown role 'dbas'; did you mean 'dba'?");
    }

    @Test
    void unusedRoleIsAWarningThatDoesNotBlockLoading() {
        CompileResult result = PolicyCompiler.compile(List.of(new SourceFile("p.pgpolicy",
                "role spare = tls;\nrole used = spare or user == \"x\";\nrole idle = tls;\nallow used select;")));
        assertThat(result.diagnostics()).extracting(Diagnostic::toString).containsExactly(
                "p.pgpolicy:3:6: warning: role 'idle' is never used");
        assertThat(result.policySet()).isPresent();
    }

    @Test
    void roleCycle() {
        assertThat(diagnostics("role a = b or tls;\nrole b = a;\nallow a select;")).containsExactly(
                "p.pgpolicy:1:6: error: role 'a' is defined in terms of itself");
    }

    @Test
    void roleRedefinedOrShadowingAttribute() {
        assertThat(diagnostics("role a = tls;\nrole a = tls;\nrole user = tls;\nrole mon = tls;")).containsExactly(
                "p.pgpolicy:2:6: error: role 'a' is already defined at p.pgpolicy:1:6",
                "p.pgpolicy:3:6: error: role name 'user' is a session attribute",
                "p.pgpolicy:4:6: error: role name 'mon' is a weekday");
    }

    @Test
    void typeMismatchStringAgainstInt() {
        assertThat(diagnostics("role a = user == 3;")).containsExactly(
                "p.pgpolicy:1:10: error: cannot compare string with int");
    }

    @Test
    void unknownAttribute() {
        assertThat(diagnostics("role a = usr == \"x\";")).containsExactly(
                "p.pgpolicy:1:10: error: unknown attribute or role 'usr'; did you mean 'user'?");
    }

    @Test
    void cidrMembershipOnNonAddress() {
        assertThat(diagnostics("role a = user in 10.0.0.0/8;")).containsExactly(
                "p.pgpolicy:1:10: error: 'in' a CIDR block needs an IP address on the left, found a string");
    }

    @Test
    void regexThatDoesNotCompile() {
        assertThat(diagnostics("role a = user matches \"[a-\";")).singleElement().asString()
                .startsWith("p.pgpolicy:1:23: error: invalid regular expression: ");
    }

    @Test
    void hourOutOfRange() {
        assertThat(diagnostics("role a = hour between 7 and 24;\nrole b = hour == -1;")).first()
                .isEqualTo("p.pgpolicy:1:29: error: hour is 0 to 23; 24 is out of range");
    }

    @Test
    void unknownWeekday() {
        assertThat(diagnostics("role a = weekday == \"funday\";")).containsExactly(
                "p.pgpolicy:1:21: error: unknown weekday \"funday\"; use mon, tue, wed, thu, fri, sat or sun");
    }

    @Test
    void orderingOnStrings() {
        assertThat(diagnostics("role a = user < \"m\";")).containsExactly(
                "p.pgpolicy:1:10: error: operator < needs numbers, weekdays or times, not string");
    }

    @Test
    void nonBooleanAsCondition() {
        assertThat(diagnostics("role a = user;\nrole b = \"x\";")).containsExactly(
                "p.pgpolicy:1:10: error: 'user' is a string, not a condition; compare it with a value",
                "p.pgpolicy:2:10: error: expected a condition, found a string literal");
    }

    @Test
    void unknownAction() {
        assertThat(diagnostics("allow any selct, sessions;")).containsExactly(
                "p.pgpolicy:1:11: error: unknown action 'selct'; did you mean 'select'?",
                "p.pgpolicy:1:18: error: unknown action 'sessions'; did you mean 'session'?");
    }

    @Test
    void unknownHeuristicAndGuardAction() {
        assertThat(diagnostics("guard any tautologie deny;\nguard any sleep block;")).containsExactly(
                "p.pgpolicy:1:11: error: unknown heuristic 'tautologie'; did you mean 'tautology'?",
                "p.pgpolicy:2:17: error: unknown guard action 'block'; expected deny, warn or off");
    }

    @Test
    void unknownAuditLevel() {
        assertThat(diagnostics("audit any everything;")).containsExactly(
                "p.pgpolicy:1:11: error: unknown audit level 'everything'; expected none, connections, metadata, statements or full");
    }

    @Test
    void badMaskArguments() {
        assertThat(diagnostics("""
                mask any t.a with partial(1, "x");
                mask any t.b with partial("1", "x", 2);
                mask any t.c with email("x");
                mask any t.d with scramble();
                mask any t.e with regex("(a", "b");
                mask any t.f with regex("(a)", "$2");
                """)).containsExactly(
                "p.pgpolicy:1:19: error: partial() takes 3 arguments, not 2",
                "p.pgpolicy:2:27: error: partial() argument 1 must be a character count (0 to 1000000)",
                "p.pgpolicy:3:19: error: email() takes 0 arguments, not 1",
                "p.pgpolicy:4:19: error: unknown mask function 'scramble'; expected redact, partial, email, hash, null or regex",
                "p.pgpolicy:5:25: error: invalid regular expression: Unclosed group",
                "p.pgpolicy:6:32: error: invalid replacement: No group 2");
    }

    @Test
    void twoDifferentMasksForOnePrincipalAndColumn() {
        assertThat(diagnostics(ROLES + """
                mask analyst payments.customers.email with email();
                mask analyst payments.customers.email with null();
                mask analyst payments.customers.ssn with null();
                mask dba payments.customers.email with null();
                """)).containsExactly(
                "p.pgpolicy:4:14: error: column payments.customers.email already has a different mask for analyst at p.pgpolicy:3:14");
    }

    @Test
    void duplicateRuleId() {
        assertThat(diagnostics("@id(\"x\") allow any select;\n@id(\"x\") deny any ddl;\n@id(\"guard.y\") deny any dcl;"))
                .containsExactly(
                        "p.pgpolicy:2:1: error: duplicate @id \"x\", first used at p.pgpolicy:1:1",
                        "p.pgpolicy:3:1: error: rule id \"guard.y\" must start with a letter or digit, contain only letters,"
                                + " digits and _ . : / -, and not start with guard.");
    }

    @Test
    void badAnnotations() {
        assertThat(diagnostics("@mode(shadow) @owner(\"me\") @reason(\"a\") @reason(\"b\") allow any select;")).containsExactly(
                "p.pgpolicy:1:1: error: unknown mode 'shadow'; expected detect or enforce",
                "p.pgpolicy:1:15: error: unknown annotation @owner; expected @id, @reason or @mode",
                "p.pgpolicy:1:41: error: @reason is given twice");
    }

    @Test
    void resourceShapes() {
        assertThat(diagnostics("""
                allow any select on a.b.c;
                deny any filter on column c;
                allow any select on schema a.b, database x.y;
                allow any set on function f;
                """)).containsExactly(
                "p.pgpolicy:1:21: error: a table pattern is NAME or SCHEMA.NAME, not a.b.c",
                "p.pgpolicy:2:20: error: a column pattern is TABLE.COLUMN or SCHEMA.TABLE.COLUMN, not c",
                "p.pgpolicy:3:21: error: a schema pattern is a single name, not a.b",
                "p.pgpolicy:3:33: error: a database pattern is a single name, not x.y",
                "p.pgpolicy:4:18: error: no action of this rule acts on a function, so 'function f' can never match");
    }

    @Test
    void namesLongerThanPostgresAllowsAreFlagged() {
        String longName = "t".repeat(64);
        assertThat(diagnostics("allow any select on " + longName + ", " + "u".repeat(63) + ", x" + "*".repeat(70) + ";"))
                .containsExactly("p.pgpolicy:1:21: warning: '" + longName
                        + "' is longer than PostgreSQL's 63-byte identifier limit and can never match");
    }

    @Test
    void limitShapes() {
        assertThat(diagnostics("""
                limit any { queries 0 per second per user; concurrent 3 per client_ip; connections 5 per role;
                            idle 0s; }
                """)).containsExactly(
                "p.pgpolicy:1:13: error: a limit of 0 would refuse everything; use a deny rule instead",
                "p.pgpolicy:1:61: error: this limit counts per user or role, not per 'client_ip'",
                "p.pgpolicy:1:90: error: this limit counts per user or client_ip, not per 'role'",
                "p.pgpolicy:2:13: error: idle must be longer than zero");
    }

    @Test
    void modeTwice() {
        assertThat(diagnostics("mode detect;\nmode enforce;\nmode silent;")).containsExactly(
                "p.pgpolicy:2:1: error: mode is already set at p.pgpolicy:1:1",
                "p.pgpolicy:3:1: error: mode is already set at p.pgpolicy:1:1");
    }

    @Test
    void fiveDifferentMistakesGiveFiveDiagnostics() {
        CompileResult result = PolicyCompiler.compile(List.of(new SourceFile("five.pgpolicy", """
                role analyst = "bi" in groups;
                allow analyst selct on payments.orders;
                deny auditor ddl;
                role night = hour between 7 and 25;
                allow any select on payments.orders
                guard any tautology deny;
                mask analyst payments.customers.email with partial(1, 2, 3);
                """)));
        assertThat(result.diagnostics()).extracting(Diagnostic::toString).containsExactly(
                "five.pgpolicy:2:15: error: unknown action 'selct'; did you mean 'select'?",
                "five.pgpolicy:3:6: error: unknown role 'auditor'",
                "five.pgpolicy:4:33: error: hour is 0 to 23; 25 is out of range",
                "five.pgpolicy:6:1: error: unexpected 'guard'; expected 'when', 'unless' or ';'",
                "five.pgpolicy:7:55: error: partial() argument 2 must be a string");
        assertThat(result.policySet()).isEmpty();
    }

    @Test
    void diagnosticsFromSeveralFilesAreSortedByFile() {
        CompileResult result = PolicyCompiler.compile(List.of(
                new SourceFile("b.pgpolicy", "allow any bogus;"),
                new SourceFile("a.pgpolicy", "allow nobody select;")));
        assertThat(result.diagnostics()).extracting(Diagnostic::file).containsExactly("a.pgpolicy", "b.pgpolicy");
    }

    @Test
    void compilerNeverThrowsOnGarbage() {
        for (String text : List.of("", ";;;", "allow", "role = ;", "mask any with;", "limit any {", "@id(", "\u0000\uffff",
                "role r = ((((tls", "deny any all on column a.b.c.d.e;")) {
            CompileResult result = PolicyCompiler.compile(List.of(new SourceFile("g.pgpolicy", text)));
            assertThat(result.policySet().isPresent()).isEqualTo(!result.hasErrors());
        }
    }
}
