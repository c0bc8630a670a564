package dev.pgpolicy.proxy.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pgpolicy.lang.Diagnostic;
import dev.pgpolicy.policy.CompileResult;
import dev.pgpolicy.policy.Decision;
import dev.pgpolicy.policy.EffectiveLimit;
import dev.pgpolicy.policy.Explanation;
import dev.pgpolicy.policy.GuardAction;
import dev.pgpolicy.policy.GuardFinding;
import dev.pgpolicy.policy.MaskBinding;
import dev.pgpolicy.policy.MaskSpec;
import dev.pgpolicy.policy.PolicyCompiler;
import dev.pgpolicy.policy.PolicySet;
import dev.pgpolicy.policy.PolicyTests;
import dev.pgpolicy.policy.Request;
import dev.pgpolicy.policy.RequestTrace;
import dev.pgpolicy.policy.ResolvedName;
import dev.pgpolicy.policy.SearchPathResolver;
import dev.pgpolicy.policy.SessionContext;
import dev.pgpolicy.policy.testing.PolicySources;
import dev.pgpolicy.policy.testing.PolicyTestRunner;
import dev.pgpolicy.sql.ColumnUse;
import dev.pgpolicy.sql.Heuristic;
import dev.pgpolicy.sql.ObjectName;
import dev.pgpolicy.sql.QueryAnalysis;
import dev.pgpolicy.sql.SqlAnalyzer;
import dev.pgpolicy.sql.StatementFacts;
import dev.pgpolicy.sql.TableAccess;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.TextStyle;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.StringJoiner;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code pgpolicy explain --policies DIR --as "user=ana,groups=a|b,client_ip=10.1.2.3" [--json] SQL}:
 * analyses the SQL offline and shows why it gets its decision: each statement's facts, every
 * request with the rules that matched it, then the decision with masks, limits, guard findings
 * and audit level. Names resolve with the session's search_path (default {@code "$user", public},
 * the {@code "$user"} schema assumed not to exist), exactly as {@code pgpolicy test} does.
 *
 * <p>Exit status 0 when the explanation was printed, whatever the decision; 1 when the policy
 * set does not compile; 2 for a usage error.
 */
@Command(
        name = "explain",
        description = "Show how a SQL text is analysed and decided for a session.",
        mixinStandardHelpOptions = true)
public final class ExplainCommand implements Callable<Integer> {

    @Option(names = "--policies", required = true, paramLabel = "DIR",
            description = "The policy set: a directory (every *.pgpolicy under it) or one .pgpolicy file.")
    Path policies;

    @Option(names = "--as", paramLabel = "ATTRS", defaultValue = "",
            description = "Session attributes: user, db_user, database, app, groups (a|b), client_ip, auth, tls,"
                    + " cert_cn, time (ISO-8601), search_path (a|b), comma separated.")
    String as;

    @Option(names = "--json", description = "Print one JSON object instead of text.")
    boolean json;

    @Parameters(arity = "1", paramLabel = "SQL", description = "The SQL text (one or more statements); - reads standard input.")
    String sql;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    private final Clock clock;

    public ExplainCommand() {
        this(Clock.systemUTC());
    }

    ExplainCommand(Clock clock) {
        this.clock = clock;
    }

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        SessionOption option;
        try {
            option = SessionOption.parse(as);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        String text = "-".equals(sql) ? new String(System.in.readAllBytes(), StandardCharsets.UTF_8) : sql;

        PolicySources.Loaded loaded = Files.isDirectory(policies)
                ? PolicySources.policySet(policies) : PolicySources.files(List.of(policies));
        List<Diagnostic> diagnostics = new ArrayList<>(loaded.diagnostics());
        Optional<PolicySet> compiled = Optional.empty();
        if (!loaded.files().isEmpty()) {
            CompileResult result = PolicyCompiler.compile(loaded.files());
            diagnostics.addAll(result.diagnostics());
            compiled = result.policySet();
        }
        if (compiled.isEmpty() || diagnostics.stream().anyMatch(Diagnostic::isError)) {
            diagnostics.sort(Diagnostic.ORDER);
            diagnostics.forEach(err::println);
            err.println(PolicySources.display(policies) + ": the policy set has errors; nothing to explain");
            err.flush();
            return 1;
        }
        PolicySet set = compiled.get();

        SessionContext session = PolicyTests.session(option.session(), clock.instant(), ZoneOffset.UTC);
        List<String> searchPath = option.searchPath().isEmpty() ? SearchPathResolver.DEFAULT_SEARCH_PATH : option.searchPath();
        SearchPathResolver resolver = SearchPathResolver.offline(searchPath);
        QueryAnalysis analysis;
        try (SqlAnalyzer analyzer = PolicyTestRunner.offlineAnalyzer()) {
            analysis = analyzer.analyze(text);
        }
        Explanation explanation = set.explain(session, analysis, resolver);

        if (json) {
            out.println(toJson(explanation, resolver));
        } else {
            printText(out, set, session, searchPath, explanation, resolver);
        }
        out.flush();
        return 0;
    }

    // ------------------------------------------------------------------ text

    private void printText(PrintWriter out, PolicySet set, SessionContext session, List<String> searchPath,
                           Explanation explanation, SearchPathResolver resolver) {
        out.println("session:     " + describe(session));
        boolean userSchema = searchPath.stream().anyMatch(s -> s.replace("\"", "").equals("$user"));
        out.println("search_path: " + String.join(", ", searchPath.stream().map(s -> s.equals("$user") ? "\"$user\"" : s).toList())
                + (userSchema ? "  (\"$user\" assumed not to exist)" : ""));
        out.println("policies:    " + PolicySources.display(policies) + " (" + set.files().size()
                + (set.files().size() == 1 ? " file" : " files") + ", revision "
                + set.revision().substring(0, Math.min(12, set.revision().length())) + ")");

        int number = 0;
        for (Explanation.StatementExplanation statement : explanation.statements()) {
            StatementFacts facts = statement.facts();
            number++;
            out.println();
            out.println("statement " + number + ": " + lower(facts.kind().name()) + ", "
                    + (facts.parsed() ? "parsed" : "NOT parsed (unparsed)") + ", fingerprint " + facts.fingerprint());
            out.println("  normalized: " + facts.normalized());
            out.println("  tables:     " + listOrNone(tables(facts, resolver).stream()
                    .map(t -> t.name() + " (" + t.action() + ")").toList()));
            out.println("  columns:    " + listOrNone(columns(facts, resolver).stream()
                    .map(c -> c.name() + " (" + c.clause() + ")").toList()));
            out.println("  functions:  " + listOrNone(functions(facts, resolver)));
            out.println("  findings:   " + listOrNone(facts.findings().stream().map(Heuristic::keyword).sorted().toList()));
            out.println("  requests:");
            if (statement.requests().isEmpty()) {
                out.println("    (none)");
            }
            int width = statement.requests().stream().mapToInt(t -> t.request().toString().length()).max().orElse(0);
            for (RequestTrace trace : statement.requests()) {
                out.println("    " + pad(trace.request().toString(), width) + "  " + describe(trace));
            }
            out.println("  decision:   " + describeEffect(statement.decision()));
        }

        Decision decision = explanation.decision();
        out.println();
        if (!explanation.messageFindings().isEmpty()) {
            out.println("message findings: " + describeFindings(explanation.messageFindings()));
        }
        out.println("decision: " + (decision.allowed() ? "ALLOW" : "DENY"));
        out.println("  rules:   " + listOrNone(decision.ruleIds()));
        out.println("  reason:  " + (decision.reason().isEmpty() ? "-" : decision.reason()));
        out.println("  masks:   " + listOrNone(masks(decision).stream()
                .map(m -> m.column() + " with " + m.mask() + (m.ruleId() == null ? "" : " (" + m.ruleId() + ")")).toList()));
        out.println("  limits:  " + listOrNone(decision.limits().stream()
                .map(l -> describe(l) + " (" + l.ruleId() + ")").toList()));
        out.println("  guards:  " + (decision.findings().isEmpty() ? "(none)" : describeFindings(decision.findings())));
        out.println("  audit:   " + decision.auditLevel().keyword());
        if (decision.wouldDeny() && decision.allowed()) {
            out.println("  detect:  would deny if detect-mode rules were enforced: " + listOrNone(decision.detectRuleIds()));
        } else if (!decision.detectRuleIds().isEmpty()) {
            out.println("  detect:  detect-mode rules matched: " + String.join(", ", decision.detectRuleIds()));
        }
    }

    private static String describe(RequestTrace trace) {
        StringJoiner text = new StringJoiner("; ");
        if (!trace.denyRuleIds().isEmpty()) {
            text.add("denied by " + String.join(", ", trace.denyRuleIds()));
        }
        if (!trace.request().requiresAllow()) {
            text.add("no allow needed");
        } else if (!trace.allowRuleIds().isEmpty()) {
            text.add("allowed by " + String.join(", ", trace.allowRuleIds()));
        } else if (!trace.covered()) {
            text.add("NOT covered by any allow");
        } else {
            text.add("covered");
        }
        return text.toString();
    }

    private static String describeEffect(Decision decision) {
        if (decision.allowed()) {
            return "allow" + (decision.ruleIds().isEmpty() ? "" : " (" + String.join(", ", decision.ruleIds()) + ")");
        }
        return "deny" + (decision.ruleIds().isEmpty() ? "" : " by " + String.join(", ", decision.ruleIds()))
                + (decision.reason().isEmpty() ? "" : ": " + decision.reason());
    }

    private static String describeFindings(List<GuardFinding> findings) {
        StringJoiner text = new StringJoiner(", ");
        for (GuardFinding finding : findings) {
            text.add(finding.heuristic().keyword() + " " + finding.action().keyword()
                    + (finding.action() == GuardAction.OFF ? "" : " (" + finding.ruleId() + ")")
                    + (finding.detect() ? " [detect]" : ""));
        }
        return text.toString();
    }

    private static String describe(SessionContext session) {
        return "user=" + session.user()
                + " groups=" + String.join("|", new TreeSet<>(session.groups()))
                + " db_user=" + session.dbUser()
                + " database=" + session.database()
                + " app=" + session.applicationName()
                + " client_ip=" + (session.clientIp() == null ? "" : session.clientIp().getHostAddress())
                + " auth=" + session.auth()
                + " tls=" + session.tls()
                + " cert_cn=" + (session.certCn() == null ? "" : session.certCn())
                + " time=" + session.time()
                + " (hour " + session.hour() + ", "
                + session.weekday().getDisplayName(TextStyle.SHORT, Locale.ROOT).toLowerCase(Locale.ROOT) + ")";
    }

    /** A limit as it is written in a policy: {@code queries 20 per second per user}. */
    static String describe(EffectiveLimit limit) {
        String scope = lower(limit.scope().name());
        switch (limit.kind()) {
            case QUERIES_PER_SECOND:
                return "queries " + limit.amount() + " per second per " + scope;
            case CONCURRENT:
                return "concurrent " + limit.amount() + " per " + scope;
            case CONNECTIONS:
                return "connections " + limit.amount() + " per " + scope;
            case ROWS_PER_QUERY:
                return "rows " + limit.amount() + " per query";
            case STATEMENT_TIMEOUT:
                return "statement_timeout " + duration(limit.duration());
            case IDLE:
                return "idle " + duration(limit.duration());
            case IDLE_IN_TRANSACTION:
                return "idle_in_transaction " + duration(limit.duration());
        }
        throw new AssertionError("unhandled limit " + limit.kind());
    }

    static String duration(Duration duration) {
        long millis = duration.toMillis();
        if (millis != 0 && millis % 3_600_000 == 0) {
            return millis / 3_600_000 + "h";
        }
        if (millis != 0 && millis % 60_000 == 0) {
            return millis / 60_000 + "m";
        }
        if (millis % 1000 == 0) {
            return millis / 1000 + "s";
        }
        return millis + "ms";
    }

    // ------------------------------------------------------------------ facts, resolved

    private record TableView(String name, String action) {
    }

    private record ColumnView(String name, String clause) {
    }

    private record MaskView(String column, MaskSpec mask, String ruleId) {
    }

    private static List<TableView> tables(StatementFacts facts, SearchPathResolver resolver) {
        List<TableView> tables = new ArrayList<>();
        for (TableAccess access : facts.tables()) {
            tables.add(new TableView(resolver.relation(access.table()).toString(), access.action().keyword()));
        }
        return tables;
    }

    private static List<ColumnView> columns(StatementFacts facts, SearchPathResolver resolver) {
        List<ColumnView> columns = new ArrayList<>();
        for (ColumnUse use : facts.columns()) {
            // "?" stands for a table the analyser could not attribute the column to.
            String table = use.table() == null ? "?" : resolver.relation(use.table()).toString();
            columns.add(new ColumnView(table + "." + use.column(), lower(use.clause().name())));
        }
        return columns;
    }

    private static List<String> functions(StatementFacts facts, SearchPathResolver resolver) {
        List<String> functions = new ArrayList<>();
        for (ObjectName function : facts.functions()) {
            functions.add(resolver.function(function).toString());
        }
        return functions;
    }

    /** The masks of the columns the statements name, each with the rule that set it. */
    private static List<MaskView> masks(Decision decision) {
        List<MaskView> masks = new ArrayList<>();
        for (Map.Entry<String, MaskSpec> entry : new TreeMap<>(decision.masks()).entrySet()) {
            String column = entry.getKey();
            int lastDot = column.lastIndexOf('.');
            int firstDot = column.indexOf('.');
            String ruleId = null;
            if (firstDot > 0 && lastDot > firstDot) {
                ruleId = decision.maskSet()
                        .maskFor(ResolvedName.certain(column.substring(0, firstDot), column.substring(firstDot + 1, lastDot)),
                                column.substring(lastDot + 1))
                        .map(MaskBinding::ruleId).orElse(null);
            }
            masks.add(new MaskView(column, entry.getValue(), ruleId));
        }
        return masks;
    }

    // ------------------------------------------------------------------ JSON

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The object of DESIGN.md ("explain --json prints one object"), plus requests, limits, guards and audit. */
    private String toJson(Explanation explanation, SearchPathResolver resolver) throws JsonProcessingException {
        Decision decision = explanation.decision();
        ObjectNode root = JSON.createObjectNode();
        root.put("decision", decision.allowed() ? "allow" : "deny");
        ArrayNode rules = root.putArray("rules");
        decision.ruleIds().forEach(rules::add);
        if (decision.reason().isEmpty()) {
            root.putNull("reason");
        } else {
            root.put("reason", decision.reason());
        }
        ArrayNode statements = root.putArray("statements");
        for (Explanation.StatementExplanation statement : explanation.statements()) {
            StatementFacts facts = statement.facts();
            ObjectNode node = statements.addObject();
            node.put("kind", lower(facts.kind().name()));
            node.put("fingerprint", facts.fingerprint());
            node.put("parsed", facts.parsed());
            node.put("normalized", facts.normalized());
            ArrayNode tables = node.putArray("tables");
            for (TableView table : tables(facts, resolver)) {
                tables.addObject().put("name", table.name()).put("action", table.action());
            }
            ArrayNode functions = node.putArray("functions");
            functions(facts, resolver).forEach(functions::add);
            ArrayNode columns = node.putArray("columns");
            for (ColumnView column : columns(facts, resolver)) {
                columns.addObject().put("name", column.name()).put("clause", column.clause());
            }
            ArrayNode findings = node.putArray("findings");
            facts.findings().stream().map(Heuristic::keyword).sorted().forEach(findings::add);
            ArrayNode requests = node.putArray("requests");
            for (RequestTrace trace : statement.requests()) {
                Request request = trace.request();
                ObjectNode r = requests.addObject();
                r.put("request", request.toString());
                r.put("action", request.action().keyword());
                r.put("requires_allow", request.requiresAllow());
                r.put("covered", trace.covered());
                ArrayNode deny = r.putArray("deny_rules");
                trace.denyRuleIds().forEach(deny::add);
                ArrayNode allow = r.putArray("allow_rules");
                trace.allowRuleIds().forEach(allow::add);
            }
            Decision own = statement.decision();
            node.put("decision", own.allowed() ? "allow" : "deny");
            ArrayNode ownRules = node.putArray("rules");
            own.ruleIds().forEach(ownRules::add);
        }
        ArrayNode masks = root.putArray("masks");
        for (MaskView mask : masks(decision)) {
            ObjectNode m = masks.addObject();
            m.put("column", mask.column());
            m.put("function", mask.mask().function().keyword());
            m.put("mask", mask.mask().toString());
            if (mask.ruleId() == null) {
                m.putNull("rule");
            } else {
                m.put("rule", mask.ruleId());
            }
        }
        ArrayNode limits = root.putArray("limits");
        for (EffectiveLimit limit : decision.limits()) {
            limits.addObject().put("limit", describe(limit)).put("rule", limit.ruleId());
        }
        ArrayNode guards = root.putArray("findings");
        for (GuardFinding finding : decision.findings()) {
            guards.addObject()
                    .put("heuristic", finding.heuristic().keyword())
                    .put("action", finding.action().keyword())
                    .put("rule", finding.ruleId())
                    .put("detect", finding.detect());
        }
        root.put("audit", decision.auditLevel().keyword());
        root.put("would_deny", decision.wouldDeny());
        return JSON.writeValueAsString(root);
    }

    // ------------------------------------------------------------------ helpers

    private static String listOrNone(List<String> items) {
        return items.isEmpty() ? "(none)" : String.join(", ", items);
    }

    private static String pad(String text, int width) {
        return text.length() >= width ? text : text + " ".repeat(width - text.length());
    }

    private static String lower(String name) {
        return name.toLowerCase(Locale.ROOT);
    }
}
