package dev.pgpolicy.lang;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class PolicyParserTest {

    static String resource(String name) throws IOException {
        try (InputStream in = PolicyParserTest.class.getResourceAsStream(name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static ParsedPolicy parse(String text) {
        return PolicyParser.parse("p.pgpolicy", text);
    }

    private static List<String> messages(ParsedPolicy parsed) {
        return parsed.diagnostics().stream().map(Diagnostic::toString).toList();
    }

    @Test
    void languageExampleParsesWithoutDiagnostics() throws IOException {
        ParsedPolicy parsed = PolicyParser.parse("example.pgpolicy", resource("language-example.pgpolicy"));
        assertThat(parsed.diagnostics()).isEmpty();
        List<Statement> statements = parsed.ast().statements();
        assertThat(statements).hasSize(23);
        assertThat(statements.stream().filter(s -> s instanceof RoleDefinition)).hasSize(3);
        assertThat(statements.stream().filter(s -> s instanceof MaskRule)).hasSize(3);
        assertThat(statements.stream().filter(s -> s instanceof GuardRule)).hasSize(5);
        assertThat(statements.stream().filter(s -> s instanceof AuditRule)).hasSize(3);
        assertThat(statements.stream().filter(s -> s instanceof LimitRule)).hasSize(2);
    }

    @Test
    void languageExampleTestFileParses() throws IOException {
        ParsedTests parsed = PolicyParser.parseTests("example.pgtest", resource("language-example.pgtest"));
        assertThat(parsed.diagnostics()).isEmpty();
        TestCase testCase = parsed.ast().cases().get(0);
        assertThat(testCase.name()).isEqualTo("analyst sees masked email, never ssn filters");
        assertThat(testCase.queries()).hasSize(2);
        TestQuery first = testCase.queries().get(0);
        assertThat(first.session().user()).isEqualTo("ana");
        assertThat(first.session().groups()).containsExactly("bi_readers");
        assertThat(first.session().clientIp().getHostAddress()).isEqualTo("10.1.2.3");
        assertThat(first.session().applicationName()).isEqualTo("metabase");
        assertThat(first.session().time()).isEqualTo(Instant.parse("2026-03-04T10:00:00Z"));
        assertThat(first.expectations()).hasSize(2);
        Expectation.Mask mask = (Expectation.Mask) first.expectations().get(1);
        assertThat(mask.column().patternText()).isEqualTo("payments.customers.email");
        assertThat(mask.function().text()).isEqualTo("email");
        Expectation.Deny deny = (Expectation.Deny) testCase.queries().get(1).expectations().get(0);
        assertThat(deny.ruleIds()).containsExactly("no-ssn-filter");
        assertThat(testCase.queries().get(1).session()).isEqualTo(first.session());
    }

    @Test
    void accessRuleKeepsEveryPart() {
        ParsedPolicy parsed = parse("""
                @id("r1") @reason("why \\"quoted\\" and \\\\") @mode(detect)
                deny analyst, !dba filter, select on column payments.customers.ssn, function pg_read_*, schema s,
                   database d, table "Mixed"."Case", *.audit_* when hour between 7 and 19 unless tls;
                """);
        assertThat(parsed.diagnostics()).isEmpty();
        AccessRule rule = (AccessRule) parsed.ast().statements().get(0);
        assertThat(rule.effect()).isEqualTo(Effect.DENY);
        assertThat(rule.annotations()).extracting(Annotation::name).containsExactly("id", "reason", "mode");
        assertThat(rule.annotations().get(1).value()).isEqualTo("why \"quoted\" and \\");
        assertThat(rule.annotations().get(2).value()).isEqualTo("detect");
        assertThat(rule.principal().terms()).extracting(PrincipalTerm::toString).containsExactly("analyst", "!dba");
        assertThat(rule.actions()).extracting(Name::text).containsExactly("filter", "select");
        assertThat(rule.resources()).extracting(Resource::toString).containsExactly(
                "column payments.customers.ssn", "function pg_read_*", "schema s", "database d",
                "table \"Mixed\".\"Case\"", "table *.audit_*");
        assertThat(rule.resources().get(4).parts().get(0)).isEqualTo(new PatternPart("Mixed", true));
        assertThat(rule.when()).isInstanceOf(Expr.Between.class);
        assertThat(rule.unless()).isEqualTo(new Expr.Identifier("tls", new Span("p.pgpolicy", 3, 82)));
        assertThat(rule.span()).isEqualTo(new Span("p.pgpolicy", 1, 1));
    }

    @Test
    void expressionOperatorsAndPrecedence() {
        ParsedPolicy parsed = parse("""
                role r = not a == "x" or b != 1 and c < 2 and d <= 3 or e > 4 and f >= 5
                  or user in ("a", "b") or user not in ("c") or client_ip in 10.0.0.0/8 or client_ip in ::1
                  or client_ip in fe80::/10 or "x" in groups or user matches "^a.*$" or user starts_with "p"
                  or (true and false) or hour not between 1 and 2 or client_ip == ::ffff:10.0.0.1;
                """);
        assertThat(messages(parsed)).isEmpty();
        Expr.Or or = (Expr.Or) ((RoleDefinition) parsed.ast().statements().get(0)).expr();
        assertThat(or.operands()).hasSize(14);
        assertThat(or.operands().get(0)).isInstanceOf(Expr.Not.class);
        Expr.And and = (Expr.And) or.operands().get(1);
        assertThat(and.operands()).hasSize(3);
        Expr.InList notIn = (Expr.InList) or.operands().get(4);
        assertThat(notIn.negated()).isTrue();
        Expr.In cidr = (Expr.In) or.operands().get(5);
        Expr.IpLiteral ip = (Expr.IpLiteral) cidr.right();
        assertThat(ip.prefixLength()).isEqualTo(8);
        assertThat(ip.address().getHostAddress()).isEqualTo("10.0.0.0");
        assertThat(((Expr.IpLiteral) ((Expr.In) or.operands().get(6)).right()).address())
                .isEqualTo(InetAddress.getLoopbackAddress().getClass() == null ? null : ipv6Loopback());
        assertThat(or.operands().get(10)).isInstanceOf(Expr.StartsWith.class);
        assertThat(((Expr.Between) or.operands().get(12)).negated()).isTrue();
    }

    private static InetAddress ipv6Loopback() {
        return Literals.parseIp("0:0:0:0:0:0:0:1").orElseThrow().address();
    }

    @Test
    void limitGuardAuditAndMode() {
        ParsedPolicy parsed = parse("""
                limit analyst { queries 20 per second per user; concurrent 3 per role; connections 100 per client_ip;
                                rows 10000 per query; statement_timeout 250ms; idle 15m; idle_in_transaction 2h; }
                guard !dba stacked_statements deny;
                guard dba unparsed warn;
                audit any metadata;
                mode detect;
                mask analyst column a.b.c, d.e with partial(0, "XX", 4) when tls;
                """);
        assertThat(messages(parsed)).isEmpty();
        LimitRule limit = (LimitRule) parsed.ast().statements().get(0);
        assertThat(limit.entries()).extracting(LimitEntry::kind).containsExactly(LimitKind.values());
        assertThat(limit.entries().get(0).amount()).isEqualTo(20);
        assertThat(limit.entries().get(0).scope().text()).isEqualTo("user");
        assertThat(limit.entries().get(4).duration()).isEqualTo(Duration.ofMillis(250));
        assertThat(limit.entries().get(5).duration()).isEqualTo(Duration.ofMinutes(15));
        assertThat(limit.entries().get(6).duration()).isEqualTo(Duration.ofHours(2));
        GuardRule guard = (GuardRule) parsed.ast().statements().get(1);
        assertThat(guard.heuristic().text()).isEqualTo("stacked_statements");
        assertThat(guard.action().text()).isEqualTo("deny");
        MaskRule mask = (MaskRule) parsed.ast().statements().get(5);
        assertThat(mask.columns()).extracting(Resource::patternText).containsExactly("a.b.c", "d.e");
        assertThat(mask.mask().arguments()).hasSize(3);
    }

    @Test
    void commentsOfEveryKindAreIgnored() {
        ParsedPolicy parsed = parse("""
                # hash comment
                // slash comment
                /* block
                   comment */ allow any session; /* trailing */
                \ufeffallow\u00a0any select;
                """);
        assertThat(messages(parsed)).isEmpty();
        assertThat(parsed.ast().statements()).hasSize(2);
    }

    @Test
    void syntaxErrorHasPositionAndHumanMessage() {
        ParsedPolicy parsed = parse("allow any select on payments.orders\n");
        assertThat(messages(parsed)).containsExactly(
                "p.pgpolicy:2:1: error: unexpected end of file; expected 'when', 'unless' or ';'");
    }

    @Test
    void reportsOneErrorPerBrokenStatementAndKeepsGoing() {
        ParsedPolicy parsed = parse("""
                allow any select on ;
                allow any session;
                deny any ddl on t when;
                role r = user == ;
                audit any full
                guard any tautology deny;
                allow any $ ;
                """);
        assertThat(messages(parsed)).containsExactly(
                "p.pgpolicy:1:21: error: unexpected ';'; expected a name, a name pattern or a string",
                "p.pgpolicy:3:23: error: unexpected ';'; expected a condition",
                "p.pgpolicy:4:18: error: unexpected ';'; expected a value",
                "p.pgpolicy:6:1: error: unexpected 'guard'; expected ';'",
                "p.pgpolicy:7:11: error: unexpected character '$'");
        assertThat(parsed.diagnostics().get(4).message()).isEqualTo("unexpected character '$'");
        assertThat(parsed.ast().statements()).extracting(s -> s.span().line()).containsExactly(2, 6);
    }

    @Test
    void resourceKindCarriesOverToTheFollowingPatterns() {
        ParsedPolicy parsed = parse("deny any call on function pg_read_file, lo_import, table t, u;");
        AccessRule rule = (AccessRule) parsed.ast().statements().get(0);
        assertThat(rule.resources()).extracting(Resource::toString).containsExactly(
                "function pg_read_file", "function lo_import", "table t", "table u");
    }

    @Test
    void strayWordsBetweenStatementsCostOnlyThemselves() {
        ParsedPolicy parsed = parse("""
                "s" garbage;
                allow any session;
                alow any select;
                } allow any select on t;
                deny any ddl;
                trailing words
                """);
        assertThat(messages(parsed)).containsExactly(
                "p.pgpolicy:1:1: error: unexpected '\"s\"'; expected a statement (role, allow, deny, mask, limit, guard, audit or mode)",
                "p.pgpolicy:3:1: error: unexpected 'alow'; expected a statement (role, allow, deny, mask, limit, guard, audit or mode)",
                "p.pgpolicy:4:1: error: unexpected '}'; expected a statement (role, allow, deny, mask, limit, guard, audit or mode)",
                "p.pgpolicy:6:1: error: unexpected 'trailing'; expected a statement (role, allow, deny, mask, limit, guard, audit or mode)");
        assertThat(parsed.ast().statements()).extracting(s -> s.span().line()).containsExactly(2, 4, 5);
    }

    @Test
    void strayWordsInTestFiles() {
        ParsedTests parsed = PolicyParser.parseTests("t.pgtest", """
                junk here
                test "a" { query "SELECT 1"; oops; expect allow; }
                test "b" { query "SELECT 2"; expect deny; }
                """);
        assertThat(parsed.diagnostics()).extracting(Diagnostic::toString).containsExactly(
                "t.pgtest:1:1: error: unexpected 'junk'; expected test",
                "t.pgtest:2:30: error: unexpected 'oops'; expected as, query, expect or '}'");
        assertThat(parsed.ast().cases()).extracting(TestCase::name).contains("b");
    }

    @Test
    void unterminatedStringAndComment() {
        assertThat(messages(parse("role r = user == \"abc;\n"))).singleElement().asString()
                .startsWith("p.pgpolicy:1:18: error: unterminated string");
        assertThat(messages(parse("allow any session; /* never closed\n"))).singleElement().asString()
                .startsWith("p.pgpolicy:1:20: error: unterminated comment");
    }

    @Test
    void badEscapeIsReportedAtTheBackslash() {
        assertThat(messages(parse("@reason(\"a\\nb\") allow any session;")))
                .containsExactly("p.pgpolicy:1:11: error: unsupported escape '\\n' in string; only \\\" and \\\\ are escapes");
    }

    @Test
    void badIpLiterals() {
        assertThat(messages(parse("role r = client_ip in 10.0.0.300/8;")))
                .containsExactly("p.pgpolicy:1:23: error: '10.0.0.300/8' is not a valid IP address or CIDR block");
        assertThat(messages(parse("role r = client_ip in 10.1.0.0/8;")))
                .containsExactly("p.pgpolicy:1:23: error: '10.1.0.0/8' has bits set to the right of the prefix; write 10.0.0.0/8");
        assertThat(messages(parse("role r = client_ip in 1:::2;"))).hasSize(1);
        assertThat(messages(parse("role r = client_ip in 2001:db8::/129;"))).hasSize(1);
    }

    @Test
    void inputSizeIsCapped() {
        String huge = "#" + "x".repeat(PolicyParser.MAX_INPUT_CHARS);
        assertThat(messages(parse(huge))).singleElement().asString().contains("the limit is 1048576");
    }

    @Test
    void errorsAreCappedPerFile() {
        ParsedPolicy parsed = parse("nonsense;\n".repeat(500) + "allow any select;");
        assertThat(parsed.diagnostics()).hasSize(101);
        assertThat(messages(parsed))
                .contains("p.pgpolicy:100:1: error: too many syntax errors; the rest of the file is not checked");
        assertThat(parsed.ast().statements()).isEmpty();
    }

    @Test
    void nestingIsCapped() {
        String deep = "role r = " + "(".repeat(100) + "tls" + ")".repeat(100) + ";";
        assertThat(messages(parse(deep))).singleElement().asString()
                .isEqualTo("p.pgpolicy:1:74: error: expression nested deeper than 64 levels");
        String nots = "role r = " + "not ".repeat(100) + "tls;";
        assertThat(messages(parse(nots))).hasSize(1);
        String fine = "role r = " + "(".repeat(60) + "tls" + ")".repeat(60) + ";";
        assertThat(messages(parse(fine))).isEmpty();
    }

    @Test
    void testFileErrors() {
        ParsedTests parsed = PolicyParser.parseTests("t.pgtest", """
                test "a" {
                  expect allow;
                  as user "u" colour "red" at "yesterday";
                  query "SELECT 1";
                }
                test "a" { query "SELECT 2"; expect deny; }
                test "b" { query "x" expect allow; }
                """);
        assertThat(parsed.diagnostics()).extracting(Diagnostic::toString).containsExactly(
                "t.pgtest:2:3: error: expect must follow a query",
                "t.pgtest:3:15: error: unknown session attribute 'colour'; expected one of user, groups, from, app, at, db_user, database, auth, tls, cert_cn",
                "t.pgtest:3:31: error: 'yesterday' is not an ISO-8601 time with an offset, such as 2026-03-04T10:00:00Z",
                "t.pgtest:4:3: error: query has no expect",
                "t.pgtest:6:1: error: duplicate test name \"a\"",
                "t.pgtest:7:22: error: unexpected 'expect'; expected ';'");
    }

    @Test
    void testFileExpectations() {
        ParsedTests parsed = PolicyParser.parseTests("t.pgtest", """
                test "all kinds" {
                  as user "u" db_user "app" database "db" auth "cert" tls true cert_cn "cn" from ::1;
                  query "SELECT 1; SELECT 2";
                  expect deny by "a", "b";
                  expect warn stacked_statements;
                  expect mask a.b.c with partial(0, "X", 4);
                  expect deny;
                }
                """);
        assertThat(parsed.diagnostics()).isEmpty();
        TestQuery query = parsed.ast().cases().get(0).queries().get(0);
        assertThat(query.session().tls()).isTrue();
        assertThat(query.session().auth()).isEqualTo("cert");
        assertThat(query.expectations()).hasSize(4);
        assertThat(((Expectation.Warn) query.expectations().get(1)).heuristic().text()).isEqualTo("stacked_statements");
        assertThat(((Expectation.Mask) query.expectations().get(2)).argumentsGiven()).isTrue();
    }

    @Test
    void patternsFoldLikePostgresIdentifiers() {
        AccessRule rule = (AccessRule) parse("allow any select on Sales.Orders$2024, Übersicht, \"MiXed\";").ast().statements().get(0);
        assertThat(rule.resources()).extracting(Resource::patternText)
                .containsExactly("sales.orders$2024", "Übersicht", "\"MiXed\"");
    }

    @Test
    void keywordsServeAsNamesWhereUnambiguous() {
        ParsedPolicy parsed = parse("role query = database == \"x\"; allow query select on table.column;");
        assertThat(messages(parsed)).isEmpty();
    }
}
