package dev.pgpolicy.lang;

import dev.pgpolicy.lang.PolicyGrammarParser.AccessRuleContext;
import dev.pgpolicy.lang.PolicyGrammarParser.AnnotatedRuleContext;
import dev.pgpolicy.lang.PolicyGrammarParser.AnnotationContext;
import dev.pgpolicy.lang.PolicyGrammarParser.AuditStatementContext;
import dev.pgpolicy.lang.PolicyGrammarParser.GuardStatementContext;
import dev.pgpolicy.lang.PolicyGrammarParser.LimitStatementContext;
import dev.pgpolicy.lang.PolicyGrammarParser.MaskRuleContext;
import dev.pgpolicy.lang.PolicyGrammarParser.ModeStatementContext;
import dev.pgpolicy.lang.PolicyGrammarParser.RoleStatementContext;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.antlr.v4.runtime.ParserRuleContext;
import org.antlr.v4.runtime.Token;
import org.antlr.v4.runtime.tree.ErrorNode;
import org.antlr.v4.runtime.tree.ParseTree;
import org.antlr.v4.runtime.tree.TerminalNode;

/**
 * Builds the AST from a parse tree. Statements (and test cases) that contain a syntax error are
 * left out entirely, so the compiler never sees half a rule; the syntax error itself has already
 * been reported. Problems with literal values (a bad escape, an impossible address) are reported
 * here, at the literal.
 */
final class AstBuilder {

    private static final Set<String> SESSION_KEYS = Set.of(
            "user", "groups", "from", "client_ip", "app", "application_name", "at", "time",
            "db_user", "database", "auth", "tls", "cert_cn");

    private final String fileName;
    private final List<Diagnostic> diagnostics;

    AstBuilder(String fileName, List<Diagnostic> diagnostics) {
        this.fileName = fileName;
        this.diagnostics = diagnostics;
    }

    // ------------------------------------------------------------------ policy files

    PolicyFile policyFile(PolicyGrammarParser.PolicyFileContext ctx) {
        List<Statement> statements = new ArrayList<>();
        for (PolicyGrammarParser.StatementContext statement : ctx.statement()) {
            if (hasSyntaxError(statement)) {
                continue;
            }
            Statement built = statement(statement);
            if (built != null) {
                statements.add(built);
            }
        }
        return new PolicyFile(fileName, statements, new Span(fileName, 1, 1));
    }

    private Statement statement(PolicyGrammarParser.StatementContext ctx) {
        if (ctx instanceof AnnotatedRuleContext annotated) {
            List<Annotation> annotations = new ArrayList<>();
            for (AnnotationContext annotation : annotated.annotation()) {
                annotations.add(annotation(annotation));
            }
            Span span = span(annotated.getStart());
            PolicyGrammarParser.RuleStatementContext rule = annotated.ruleStatement();
            if (rule instanceof AccessRuleContext access) {
                return new AccessRule(annotations,
                        access.effect.getType() == PolicyGrammarLexer.ALLOW ? Effect.ALLOW : Effect.DENY,
                        principal(access.principal()),
                        access.actionList().ident().stream().map(this::name).toList(),
                        access.resourceList() == null ? List.of() : resources(access.resourceList()),
                        access.whenExpr == null ? null : expr(access.whenExpr),
                        access.unlessExpr == null ? null : expr(access.unlessExpr),
                        span);
            }
            if (rule instanceof MaskRuleContext mask) {
                List<Resource> columns = new ArrayList<>();
                for (PolicyGrammarParser.ColumnPatternContext column : mask.columnList().columnPattern()) {
                    columns.add(new Resource(ResourceKind.COLUMN, column.COLUMN() != null,
                            pattern(column.namePattern()), span(column.getStart())));
                }
                return new MaskRule(annotations, principal(mask.principal()), columns, maskCall(mask.maskCall()),
                        mask.whenExpr == null ? null : expr(mask.whenExpr), span);
            }
            throw new AssertionError("unknown rule statement " + rule.getClass());
        }
        if (ctx instanceof RoleStatementContext role) {
            return new RoleDefinition(name(role.name), expr(role.expr()), span(role.getStart()));
        }
        if (ctx instanceof LimitStatementContext limit) {
            List<LimitEntry> entries = new ArrayList<>();
            for (PolicyGrammarParser.LimitEntryContext entry : limit.limitEntry()) {
                LimitEntry built = limitEntry(entry);
                if (built != null) {
                    entries.add(built);
                }
            }
            return new LimitRule(principal(limit.principal()), entries, span(limit.getStart()));
        }
        if (ctx instanceof GuardStatementContext guard) {
            PolicyGrammarParser.GuardActionContext action = guard.guardAction();
            return new GuardRule(principal(guard.principal()), name(guard.heuristic),
                    new Name(action.getText(), span(action.getStart())), span(guard.getStart()));
        }
        if (ctx instanceof AuditStatementContext audit) {
            return new AuditRule(principal(audit.principal()), name(audit.level), span(audit.getStart()));
        }
        if (ctx instanceof ModeStatementContext mode) {
            return new ModeDirective(name(mode.modeName), span(mode.getStart()));
        }
        throw new AssertionError("unknown statement " + ctx.getClass());
    }

    private Annotation annotation(AnnotationContext ctx) {
        PolicyGrammarParser.AnnotationValueContext value = ctx.annotationValue();
        String text = value.STRING() != null ? string(value.STRING().getSymbol()) : value.getText();
        return new Annotation(ctx.name.getText(), text, span(ctx.getStart()));
    }

    private Principal principal(PolicyGrammarParser.PrincipalContext ctx) {
        List<PrincipalTerm> terms = new ArrayList<>();
        for (PolicyGrammarParser.PrincipalTermContext term : ctx.principalTerm()) {
            if (term instanceof PolicyGrammarParser.AnyPrincipalContext) {
                terms.add(PrincipalTerm.anyone(span(term.getStart())));
            } else if (term instanceof PolicyGrammarParser.RolePrincipalContext role) {
                terms.add(PrincipalTerm.role(role.ident().getText(), role.BANG() != null, span(term.getStart())));
            } else {
                throw new AssertionError("unknown principal term " + term.getClass());
            }
        }
        return new Principal(terms, span(ctx.getStart()));
    }

    /**
     * A kind word applies to the patterns after it until the next kind word, so that
     * {@code on function pg_read_file, pg_ls_dir} names two functions, as LANGUAGE.md's example
     * reads. The first pattern without a kind word is a table.
     */
    private List<Resource> resources(PolicyGrammarParser.ResourceListContext ctx) {
        List<Resource> resources = new ArrayList<>();
        ResourceKind current = ResourceKind.TABLE;
        for (PolicyGrammarParser.ResourceContext resource : ctx.resource()) {
            Resource built = resource(resource, current);
            current = built.kind();
            resources.add(built);
        }
        return resources;
    }

    private Resource resource(PolicyGrammarParser.ResourceContext ctx, ResourceKind inherited) {
        ResourceKind kind = inherited;
        if (ctx.kind != null) {
            kind = switch (ctx.kind.getType()) {
                case PolicyGrammarLexer.TABLE -> ResourceKind.TABLE;
                case PolicyGrammarLexer.COLUMN -> ResourceKind.COLUMN;
                case PolicyGrammarLexer.FUNCTION -> ResourceKind.FUNCTION;
                case PolicyGrammarLexer.SCHEMA -> ResourceKind.SCHEMA;
                case PolicyGrammarLexer.DATABASE -> ResourceKind.DATABASE;
                default -> throw new AssertionError("unknown resource kind " + ctx.kind.getText());
            };
        }
        return new Resource(kind, ctx.kind != null, pattern(ctx.namePattern()), span(ctx.getStart()));
    }

    private List<PatternPart> pattern(PolicyGrammarParser.NamePatternContext ctx) {
        List<PatternPart> parts = new ArrayList<>();
        for (PolicyGrammarParser.NamePartContext part : ctx.namePart()) {
            if (part.STRING() != null) {
                String text = string(part.STRING().getSymbol());
                if (text.isEmpty()) {
                    diagnostics.add(Diagnostic.error(span(part.getStart()), "a quoted name cannot be empty"));
                }
                parts.add(new PatternPart(text, true));
            } else {
                parts.add(new PatternPart(foldIdentifier(part.getText()), false));
            }
        }
        return parts;
    }

    private MaskCall maskCall(PolicyGrammarParser.MaskCallContext ctx) {
        List<Expr> arguments = new ArrayList<>();
        for (PolicyGrammarParser.LiteralContext literal : ctx.literal()) {
            arguments.add(literal(literal));
        }
        return new MaskCall(name(ctx.name), arguments, span(ctx.getStart()));
    }

    private Expr literal(PolicyGrammarParser.LiteralContext ctx) {
        if (ctx.STRING() != null) {
            return new Expr.StringLiteral(string(ctx.STRING().getSymbol()), span(ctx.getStart()));
        }
        return new Expr.IntLiteral(integer(ctx.INT().getSymbol()), span(ctx.getStart()));
    }

    private LimitEntry limitEntry(PolicyGrammarParser.LimitEntryContext ctx) {
        Span span = span(ctx.getStart());
        if (ctx instanceof PolicyGrammarParser.QueriesLimitContext queries) {
            return new LimitEntry(LimitKind.QUERIES_PER_SECOND, integer(queries.INT().getSymbol()), null,
                    name(queries.scope), span);
        }
        if (ctx instanceof PolicyGrammarParser.ConcurrentLimitContext concurrent) {
            return new LimitEntry(LimitKind.CONCURRENT, integer(concurrent.INT().getSymbol()), null,
                    name(concurrent.scope), span);
        }
        if (ctx instanceof PolicyGrammarParser.ConnectionsLimitContext connections) {
            return new LimitEntry(LimitKind.CONNECTIONS, integer(connections.INT().getSymbol()), null,
                    name(connections.scope), span);
        }
        if (ctx instanceof PolicyGrammarParser.RowsLimitContext rows) {
            return new LimitEntry(LimitKind.ROWS_PER_QUERY, integer(rows.INT().getSymbol()), null, null, span);
        }
        if (ctx instanceof PolicyGrammarParser.StatementTimeoutLimitContext timeout) {
            return durationEntry(LimitKind.STATEMENT_TIMEOUT, timeout.DURATION().getSymbol(), span);
        }
        if (ctx instanceof PolicyGrammarParser.IdleLimitContext idle) {
            return durationEntry(LimitKind.IDLE, idle.DURATION().getSymbol(), span);
        }
        if (ctx instanceof PolicyGrammarParser.IdleInTransactionLimitContext idle) {
            return durationEntry(LimitKind.IDLE_IN_TRANSACTION, idle.DURATION().getSymbol(), span);
        }
        throw new AssertionError("unknown limit entry " + ctx.getClass());
    }

    private LimitEntry durationEntry(LimitKind kind, Token token, Span span) {
        Optional<Duration> duration = Literals.parseDuration(token.getText());
        if (duration.isEmpty()) {
            diagnostics.add(Diagnostic.error(span(token), "duration " + token.getText() + " is out of range"));
            return null;
        }
        return new LimitEntry(kind, 0, duration.get(), null, span);
    }

    // ------------------------------------------------------------------ expressions

    private Expr expr(PolicyGrammarParser.ExprContext ctx) {
        PolicyGrammarParser.OrExprContext or = ctx.orExpr();
        List<Expr> operands = new ArrayList<>();
        for (PolicyGrammarParser.AndExprContext and : or.andExpr()) {
            operands.add(andExpr(and));
        }
        return operands.size() == 1 ? operands.get(0) : new Expr.Or(operands, span(or.getStart()));
    }

    private Expr andExpr(PolicyGrammarParser.AndExprContext ctx) {
        List<Expr> operands = new ArrayList<>();
        for (PolicyGrammarParser.NotExprContext not : ctx.notExpr()) {
            operands.add(notExpr(not));
        }
        return operands.size() == 1 ? operands.get(0) : new Expr.And(operands, span(ctx.getStart()));
    }

    private Expr notExpr(PolicyGrammarParser.NotExprContext ctx) {
        if (ctx instanceof PolicyGrammarParser.NegationContext negation) {
            return new Expr.Not(notExpr(negation.notExpr()), span(ctx.getStart()));
        }
        if (ctx instanceof PolicyGrammarParser.PredicateExprContext predicate) {
            return predicate(predicate.predicate());
        }
        throw new AssertionError("unknown not-expression " + ctx.getClass());
    }

    private Expr predicate(PolicyGrammarParser.PredicateContext ctx) {
        Span span = span(ctx.getStart());
        if (ctx instanceof PolicyGrammarParser.ParenthesizedContext paren) {
            return expr(paren.expr());
        }
        if (ctx instanceof PolicyGrammarParser.ComparisonContext comparison) {
            CompareOp op = switch (comparison.op.getType()) {
                case PolicyGrammarLexer.EQ -> CompareOp.EQ;
                case PolicyGrammarLexer.NE -> CompareOp.NE;
                case PolicyGrammarLexer.LT -> CompareOp.LT;
                case PolicyGrammarLexer.LE -> CompareOp.LE;
                case PolicyGrammarLexer.GT -> CompareOp.GT;
                case PolicyGrammarLexer.GE -> CompareOp.GE;
                default -> throw new AssertionError("unknown operator " + comparison.op.getText());
            };
            return new Expr.Comparison(operand(comparison.left), op, operand(comparison.right), span);
        }
        if (ctx instanceof PolicyGrammarParser.InListContext in) {
            List<Expr> values = new ArrayList<>();
            // operand(0) is the left side; the rest are the list.
            List<PolicyGrammarParser.OperandContext> operands = in.operand();
            for (int i = 1; i < operands.size(); i++) {
                values.add(operand(operands.get(i)));
            }
            return new Expr.InList(operand(in.left), values, in.NOT() != null, span);
        }
        if (ctx instanceof PolicyGrammarParser.InValueContext in) {
            return new Expr.In(operand(in.left), operand(in.right), in.NOT() != null, span);
        }
        if (ctx instanceof PolicyGrammarParser.MatchesContext matches) {
            Token regex = matches.STRING().getSymbol();
            return new Expr.Matches(operand(matches.left), new Expr.StringLiteral(string(regex), span(regex)), span);
        }
        if (ctx instanceof PolicyGrammarParser.StartsWithContext startsWith) {
            Token prefix = startsWith.STRING().getSymbol();
            return new Expr.StartsWith(operand(startsWith.left), new Expr.StringLiteral(string(prefix), span(prefix)), span);
        }
        if (ctx instanceof PolicyGrammarParser.BetweenContext between) {
            return new Expr.Between(operand(between.left), operand(between.low), operand(between.high),
                    between.NOT() != null, span);
        }
        if (ctx instanceof PolicyGrammarParser.BareOperandContext bare) {
            return operand(bare.operand());
        }
        throw new AssertionError("unknown predicate " + ctx.getClass());
    }

    private Expr operand(PolicyGrammarParser.OperandContext ctx) {
        Span span = span(ctx.getStart());
        if (ctx instanceof PolicyGrammarParser.NameOperandContext name) {
            return new Expr.Identifier(name.getText(), span);
        }
        if (ctx instanceof PolicyGrammarParser.StringOperandContext string) {
            return new Expr.StringLiteral(string(string.STRING().getSymbol()), span);
        }
        if (ctx instanceof PolicyGrammarParser.IntOperandContext integer) {
            return new Expr.IntLiteral(integer(integer.INT().getSymbol()), span);
        }
        if (ctx instanceof PolicyGrammarParser.BoolOperandContext bool) {
            return new Expr.BoolLiteral(bool.TRUE() != null, span);
        }
        if (ctx instanceof PolicyGrammarParser.IpOperandContext ip) {
            return ipLiteral(ip.getStart());
        }
        throw new AssertionError("unknown operand " + ctx.getClass());
    }

    private Expr ipLiteral(Token token) {
        Span span = span(token);
        String text = token.getText();
        Optional<Literals.IpValue> value = Literals.parseIp(text);
        if (value.isEmpty()) {
            diagnostics.add(Diagnostic.error(span, "'" + text + "' is not a valid IP address or CIDR block"));
            return new Expr.IpLiteral(InetAddress.getLoopbackAddress(), -1, text, span);
        }
        Literals.IpValue ip = value.get();
        if (ip.hostBitsSet()) {
            diagnostics.add(Diagnostic.error(span, "'" + text + "' has bits set to the right of the prefix; write "
                    + ip.address().getHostAddress() + "/" + ip.prefixLength()));
        }
        return new Expr.IpLiteral(ip.address(), ip.prefixLength(), text, span);
    }

    // ------------------------------------------------------------------ test files

    TestFile testFile(PolicyGrammarParser.TestFileContext ctx) {
        List<TestCase> cases = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (PolicyGrammarParser.TestCaseContext testCase : ctx.testCase()) {
            if (hasSyntaxError(testCase)) {
                continue;
            }
            TestCase built = testCase(testCase);
            if (!names.add(built.name())) {
                diagnostics.add(Diagnostic.error(built.span(), "duplicate test name \"" + built.name() + "\""));
            }
            cases.add(built);
        }
        return new TestFile(fileName, cases, new Span(fileName, 1, 1));
    }

    private TestCase testCase(PolicyGrammarParser.TestCaseContext ctx) {
        Span caseSpan = span(ctx.getStart());
        String name = string(ctx.STRING().getSymbol());
        SessionSpec session = SessionSpec.empty(caseSpan);
        List<TestQuery> queries = new ArrayList<>();
        String sql = null;
        Span querySpan = null;
        SessionSpec querySession = null;
        List<Expectation> expectations = new ArrayList<>();
        for (PolicyGrammarParser.TestStepContext step : ctx.testStep()) {
            if (step instanceof PolicyGrammarParser.AsStepContext as) {
                session = session(as);
            } else if (step instanceof PolicyGrammarParser.QueryStepContext query) {
                if (sql != null) {
                    queries.add(finishQuery(querySession, sql, expectations, querySpan));
                }
                sql = string(query.STRING().getSymbol());
                querySpan = span(step.getStart());
                querySession = session;
                expectations = new ArrayList<>();
            } else if (step instanceof PolicyGrammarParser.ExpectStepContext expect) {
                Expectation expectation = expectation(expect.expectation(), span(expect.getStart()));
                if (sql == null) {
                    diagnostics.add(Diagnostic.error(expectation.span(), "expect must follow a query"));
                } else {
                    expectations.add(expectation);
                }
            } else {
                throw new AssertionError("unknown test step " + step.getClass());
            }
        }
        if (sql != null) {
            queries.add(finishQuery(querySession, sql, expectations, querySpan));
        } else {
            diagnostics.add(Diagnostic.error(caseSpan, "test \"" + name + "\" has no query"));
        }
        return new TestCase(name, queries, caseSpan);
    }

    private TestQuery finishQuery(SessionSpec session, String sql, List<Expectation> expectations, Span span) {
        if (expectations.isEmpty()) {
            diagnostics.add(Diagnostic.error(span, "query has no expect"));
        }
        return new TestQuery(session, sql, expectations, span);
    }

    private SessionSpec session(PolicyGrammarParser.AsStepContext ctx) {
        String user = null;
        List<String> groups = List.of();
        InetAddress clientIp = null;
        String app = null;
        Instant time = null;
        String dbUser = null;
        String database = null;
        String auth = null;
        Boolean tls = null;
        String certCn = null;
        Set<String> seen = new HashSet<>();
        for (PolicyGrammarParser.SessionItemContext item : ctx.sessionItem()) {
            String key = item.key.getText();
            Span keySpan = span(item.getStart());
            if (!SESSION_KEYS.contains(key)) {
                diagnostics.add(Diagnostic.error(keySpan, "unknown session attribute '" + key
                        + "'; expected one of user, groups, from, app, at, db_user, database, auth, tls, cert_cn"));
                continue;
            }
            String canonical = switch (key) {
                case "client_ip" -> "from";
                case "application_name" -> "app";
                case "time" -> "at";
                default -> key;
            };
            if (!seen.add(canonical)) {
                diagnostics.add(Diagnostic.error(keySpan, "session attribute '" + key + "' is given twice"));
                continue;
            }
            PolicyGrammarParser.SessionValueContext value = item.sessionValue();
            switch (canonical) {
                case "groups" -> {
                    if (value instanceof PolicyGrammarParser.ListValueContext list) {
                        groups = list.STRING().stream().map(t -> string(t.getSymbol())).toList();
                    } else if (value instanceof PolicyGrammarParser.StringValueContext single) {
                        groups = List.of(string(single.STRING().getSymbol()));
                    } else {
                        wrongValue(keySpan, key, "a list of strings such as (\"a\", \"b\")");
                    }
                }
                case "from" -> {
                    if (value instanceof PolicyGrammarParser.IpValueContext ip) {
                        Expr.IpLiteral literal = (Expr.IpLiteral) ipLiteral(ip.getStart());
                        if (literal.isCidr()) {
                            diagnostics.add(Diagnostic.error(span(ip.getStart()), "a client address cannot be a CIDR block"));
                        }
                        clientIp = literal.address();
                    } else {
                        wrongValue(keySpan, key, "an IP address such as 10.1.2.3");
                    }
                }
                case "tls" -> {
                    if (value instanceof PolicyGrammarParser.BoolValueContext bool) {
                        tls = bool.TRUE() != null;
                    } else {
                        wrongValue(keySpan, key, "true or false");
                    }
                }
                case "at" -> {
                    String text = stringValue(value, keySpan, key);
                    if (text != null) {
                        time = instant(text, span(value.getStart()));
                    }
                }
                case "user" -> user = stringValue(value, keySpan, key);
                case "app" -> app = stringValue(value, keySpan, key);
                case "db_user" -> dbUser = stringValue(value, keySpan, key);
                case "database" -> database = stringValue(value, keySpan, key);
                case "auth" -> auth = stringValue(value, keySpan, key);
                case "cert_cn" -> certCn = stringValue(value, keySpan, key);
                default -> throw new AssertionError("unhandled session attribute " + canonical);
            }
        }
        return new SessionSpec(user, groups, clientIp, app, time, dbUser, database, auth, tls, certCn, span(ctx.getStart()));
    }

    private String stringValue(PolicyGrammarParser.SessionValueContext value, Span keySpan, String key) {
        if (value instanceof PolicyGrammarParser.StringValueContext string) {
            return string(string.STRING().getSymbol());
        }
        wrongValue(keySpan, key, "a string");
        return null;
    }

    private void wrongValue(Span span, String key, String expected) {
        diagnostics.add(Diagnostic.error(span, "session attribute '" + key + "' takes " + expected));
    }

    private Instant instant(String text, Span span) {
        try {
            return OffsetDateTime.parse(text).toInstant();
        } catch (DateTimeParseException e) {
            diagnostics.add(Diagnostic.error(span, "'" + text
                    + "' is not an ISO-8601 time with an offset, such as 2026-03-04T10:00:00Z"));
            return null;
        }
    }

    /** {@code span} is the position of the {@code expect} keyword, where a test failure points. */
    private Expectation expectation(PolicyGrammarParser.ExpectationContext ctx, Span span) {
        if (ctx instanceof PolicyGrammarParser.ExpectAllowContext) {
            return new Expectation.Allow(span);
        }
        if (ctx instanceof PolicyGrammarParser.ExpectDenyContext deny) {
            return new Expectation.Deny(deny.STRING().stream().map(t -> string(t.getSymbol())).toList(), span);
        }
        if (ctx instanceof PolicyGrammarParser.ExpectMaskContext mask) {
            Resource column = new Resource(ResourceKind.COLUMN, false, pattern(mask.namePattern()),
                    span(mask.namePattern().getStart()));
            List<Expr> arguments = new ArrayList<>();
            for (PolicyGrammarParser.LiteralContext literal : mask.literal()) {
                arguments.add(literal(literal));
            }
            return new Expectation.Mask(column, name(mask.name), arguments, mask.LPAREN() != null, span);
        }
        if (ctx instanceof PolicyGrammarParser.ExpectWarnContext warn) {
            return new Expectation.Warn(name(warn.heuristic), span);
        }
        throw new AssertionError("unknown expectation " + ctx.getClass());
    }

    // ------------------------------------------------------------------ helpers

    private Name name(PolicyGrammarParser.IdentContext ctx) {
        return new Name(ctx.getText(), span(ctx.getStart()));
    }

    private Span span(Token token) {
        return new Span(fileName, token.getLine(), token.getCharPositionInLine() + 1);
    }

    /** Decodes a string token: only {@code \"} and {@code \\} are escapes (LANGUAGE.md, "Files"). */
    private String string(Token token) {
        String text = token.getText();
        StringBuilder value = new StringBuilder(text.length());
        for (int i = 1; i < text.length() - 1; i++) {
            char c = text.charAt(i);
            if (c != '\\') {
                value.append(c);
                continue;
            }
            char next = text.charAt(++i);
            if (next == '"' || next == '\\') {
                value.append(next);
            } else {
                int line = token.getLine();
                int column = token.getCharPositionInLine() + 1 + i - 1;
                String before = text.substring(0, i - 1);
                int newline = before.lastIndexOf('\n');
                if (newline >= 0) {
                    line += (int) before.chars().filter(ch -> ch == '\n').count();
                    column = i - 1 - newline;
                }
                diagnostics.add(new Diagnostic(fileName, line, column, Severity.ERROR,
                        "unsupported escape '\\" + next + "' in string; only \\\" and \\\\ are escapes"));
                value.append('\\').append(next);
            }
        }
        return value.toString();
    }

    /**
     * PostgreSQL folds unquoted identifiers by lower-casing ASCII letters only (scansup.c,
     * downcase_identifier, for multibyte server encodings); patterns fold the same way so that a
     * name written like the SQL spells it matches the same object.
     */
    static String foldIdentifier(String text) {
        StringBuilder folded = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            folded.append(c >= 'A' && c <= 'Z' ? (char) (c + ('a' - 'A')) : c);
        }
        return folded.toString();
    }

    private long integer(Token token) {
        try {
            return Long.parseLong(token.getText());
        } catch (NumberFormatException e) {
            diagnostics.add(Diagnostic.error(span(token), "number " + token.getText() + " is too large"));
            return Long.MAX_VALUE;
        }
    }

    private static boolean hasSyntaxError(ParseTree tree) {
        if (tree instanceof ErrorNode) {
            return true;
        }
        if (tree instanceof TerminalNode) {
            return false;
        }
        if (tree instanceof ParserRuleContext ctx && ctx.exception != null) {
            return true;
        }
        for (int i = 0; i < tree.getChildCount(); i++) {
            if (hasSyntaxError(tree.getChild(i))) {
                return true;
            }
        }
        return false;
    }
}
