package dev.pgpolicy.proxy.dryrun;

import dev.pgpolicy.policy.Decision;
import dev.pgpolicy.policy.Explanation;
import dev.pgpolicy.policy.GuardAction;
import dev.pgpolicy.policy.GuardFinding;
import dev.pgpolicy.policy.PolicySet;
import dev.pgpolicy.policy.SearchPathResolver;
import dev.pgpolicy.policy.SessionContext;
import dev.pgpolicy.sql.QueryAnalysis;
import dev.pgpolicy.sql.SqlAnalyzer;
import dev.pgpolicy.sql.StatementFacts;
import dev.pgpolicy.sql.StatementKind;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Replays captured statements through a policy set, and through a baseline set when given, the
 * way the proxy would decide them: the same analyser and engine, the session attributes the input
 * recorded (missing ones empty, as in {@code .pgtest} files), groups from the caller's mapping,
 * the statement's own time, and the offline search path ({@code "$user", public} with no
 * {@code "$user"} schema).
 *
 * <p>Not thread-safe: one instance reads one set of inputs.
 */
public final class DryRun implements TrafficSink {
    /** Distinct (session, text) decisions remembered, so repeated traffic is decided once. */
    private static final int DECISION_CACHE_ENTRIES = 50_000;

    private final PolicySet policy;
    private final Optional<PolicySet> baseline;
    private final Function<String, Set<String>> groups;
    private final SqlAnalyzer analyzer;
    private final SearchPathResolver resolver = SearchPathResolver.defaultPath();

    private long statements;
    private long parsed;
    private long allow;
    private long deny;
    private long masked;
    private long warned;
    private final Set<String> usedRules = new HashSet<>();
    private final Map<EntryKey, Counter> entries = new LinkedHashMap<>();
    private final Map<ChangeKey, Counter> changes = new LinkedHashMap<>();
    private final List<InputProblem> problems = new ArrayList<>();
    private final List<InputProblem> notices = new ArrayList<>();
    private final Map<CacheKey, Evaluated> cache = new LinkedHashMap<>(1024, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<CacheKey, Evaluated> eldest) {
            return size() > DECISION_CACHE_ENTRIES;
        }
    };

    private record EntryKey(String user, String fingerprint, Outcome outcome) {
    }

    private record ChangeKey(String user, String fingerprint, Change change, Outcome before, Outcome after) {
    }

    private static final class Counter {
        final String sql;
        final boolean parsed;
        long count;

        Counter(String sql, boolean parsed) {
            this.sql = sql;
            this.parsed = parsed;
        }
    }

    private record CacheKey(SessionContext session, String sql) {
    }

    private record Evaluated(String fingerprint, String normalized, boolean parsed, Outcome after, Optional<Outcome> before,
                             List<String> matchedRules) {
    }

    /**
     * @param groups   the groups of a user name (the user name is empty when the input did not say)
     * @param analyzer the SQL analyser; the caller closes it
     */
    public DryRun(PolicySet policy, Optional<PolicySet> baseline, Function<String, Set<String>> groups, SqlAnalyzer analyzer) {
        this.policy = Objects.requireNonNull(policy, "policy");
        this.baseline = Objects.requireNonNull(baseline, "baseline");
        this.groups = Objects.requireNonNull(groups, "groups");
        this.analyzer = Objects.requireNonNull(analyzer, "analyzer");
    }

    @Override
    public void statement(CapturedStatement captured) {
        CapturedSession from = captured.session();
        String user = from.user().orElse("");
        Set<String> sessionGroups = new HashSet<>(from.groups());
        sessionGroups.addAll(groups.apply(user));
        SessionContext session = new SessionContext(user, sessionGroups, from.dbUser(), from.database(), from.applicationName(),
                from.clientIp(), "", false, null, captured.time(), ZoneOffset.UTC);
        boolean timeDependent = policy.timeDependent() || baseline.map(PolicySet::timeDependent).orElse(false);
        CacheKey key = new CacheKey(timeDependent ? session : session.withTime(Instant.EPOCH), captured.sql());
        Evaluated cached = cache.get(key);
        if (cached == null) {
            cached = evaluate(session, captured.sql());
            cache.put(key, cached);
        }
        Evaluated evaluated = cached;
        if (evaluated.fingerprint().isEmpty()) {
            return; // only comments or white space: nothing the server runs
        }
        statements++;
        if (evaluated.parsed()) {
            parsed++;
        }
        Outcome after = evaluated.after();
        if (after.allowed()) {
            allow++;
        } else {
            deny++;
        }
        if (after.masked()) {
            masked++;
        }
        if (!after.warnings().isEmpty()) {
            warned++;
        }
        usedRules.addAll(evaluated.matchedRules());
        String display = from.displayUser();
        entries.computeIfAbsent(new EntryKey(display, evaluated.fingerprint(), after),
                k -> new Counter(evaluated.normalized(), evaluated.parsed())).count++;
        if (evaluated.before().isPresent()) {
            Change change = Change.between(evaluated.before().get(), after);
            if (change != null) {
                changes.computeIfAbsent(new ChangeKey(display, evaluated.fingerprint(), change, evaluated.before().get(), after),
                        k -> new Counter(evaluated.normalized(), evaluated.parsed())).count++;
            }
        }
    }

    private Evaluated evaluate(SessionContext session, String sql) {
        QueryAnalysis analysis = analyzer.analyze(sql);
        // An EMPTY statement is a message of only comments, white space or semicolons: nothing runs.
        List<StatementFacts> facts = analysis.statements().stream().filter(f -> f.kind() != StatementKind.EMPTY).toList();
        String fingerprint = facts.stream().map(StatementFacts::fingerprint).collect(Collectors.joining(";"));
        String normalized = facts.stream().map(StatementFacts::normalized).collect(Collectors.joining("; "));
        boolean allParsed = !facts.isEmpty() && facts.stream().allMatch(StatementFacts::parsed);
        if (facts.isEmpty()) {
            return new Evaluated("", "", false, new Outcome(true, List.of(), new TreeMap<>(), List.of(), false), Optional.empty(),
                    List.of());
        }
        Explanation explanation = policy.explain(session, analysis, resolver);
        Optional<Outcome> before = baseline.map(set -> outcome(set.evaluate(session, analysis, resolver)));
        return new Evaluated(fingerprint, normalized, allParsed, outcome(explanation.decision()), before,
                explanation.matchedRuleIds());
    }

    static Outcome outcome(Decision decision) {
        TreeMap<String, String> masks = new TreeMap<>();
        decision.masks().forEach((column, mask) -> masks.put(column, mask.toString()));
        List<String> warnings = decision.findings().stream()
                .filter(finding -> finding.action() == GuardAction.WARN)
                .map(GuardFinding::heuristic)
                .map(heuristic -> heuristic.keyword())
                .distinct()
                .sorted()
                .toList();
        return new Outcome(decision.allowed(), decision.allowed() ? List.of() : decision.ruleIds(),
                decision.allowed() ? masks : new TreeMap<>(), warnings, decision.wouldDeny());
    }

    @Override
    public void problem(InputProblem problem) {
        problems.add(problem);
    }

    @Override
    public void notice(InputProblem notice) {
        notices.add(notice);
    }

    public DryRunReport report() {
        List<DryRunReport.Entry> entryList = new ArrayList<>();
        entries.forEach((key, counter) -> entryList.add(new DryRunReport.Entry(key.user(), key.fingerprint(), counter.sql,
                counter.parsed, key.outcome().decision(), key.outcome().rules(), key.outcome().masks(),
                key.outcome().warnings(), key.outcome().wouldDeny(), counter.count)));
        entryList.sort(Comparator.comparingLong(DryRunReport.Entry::count).reversed()
                .thenComparing(DryRunReport.Entry::user).thenComparing(DryRunReport.Entry::sql));
        Optional<List<DryRunReport.ChangeEntry>> changeList = baseline.map(set -> {
            List<DryRunReport.ChangeEntry> list = new ArrayList<>();
            changes.forEach((key, counter) -> list.add(new DryRunReport.ChangeEntry(key.user(), key.fingerprint(), counter.sql,
                    key.change(), key.before().decision(), key.after().decision(), key.before().rules(),
                    key.after().rules(), key.before().masks(), key.after().masks(), counter.count)));
            list.sort(Comparator.comparing(DryRunReport.ChangeEntry::change)
                    .thenComparing(Comparator.comparingLong(DryRunReport.ChangeEntry::count).reversed())
                    .thenComparing(DryRunReport.ChangeEntry::user).thenComparing(DryRunReport.ChangeEntry::sql));
            return list;
        });
        List<String> unused = policy.ruleIds().stream().filter(id -> !usedRules.contains(id)).toList();
        return new DryRunReport(statements, parsed, new DryRunReport.Totals(allow, deny, masked, warned), entryList,
                changeList, unused, problems, notices);
    }
}
