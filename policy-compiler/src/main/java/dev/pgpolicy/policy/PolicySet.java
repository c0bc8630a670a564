package dev.pgpolicy.policy;

import dev.pgpolicy.lang.Effect;
import dev.pgpolicy.lang.LimitKind;
import dev.pgpolicy.lang.ResourceKind;
import dev.pgpolicy.sql.Clause;
import dev.pgpolicy.sql.ColumnUse;
import dev.pgpolicy.sql.Heuristic;
import dev.pgpolicy.sql.QueryAnalysis;
import dev.pgpolicy.sql.StatementFacts;
import dev.pgpolicy.sql.StatementKind;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * A compiled, immutable policy set. Evaluation never throws: a defect or an unexpected input
 * yields a denial (fail closed).
 *
 * <p>Evaluation has two steps. {@link #principalClass} evaluates every rule's principal and
 * conditions against the session once, giving one bit per rule. Deciding a statement then only
 * reads those bits while it walks the rule index for each request, so a decision depends on
 * (revision, principal class, search path, statement) and can be cached under that key.
 */
public final class PolicySet {

    private final String revision;
    private final List<CompiledRule> rules;
    private final List<Glob> databasePatterns;
    private final RuleIndex allows;
    private final RuleIndex denies;
    private final List<CompiledRule.Mask> masks;
    private final List<CompiledRule.Limit> limitRules;
    private final List<CompiledRule.Guard> guards;
    private final List<CompiledRule.Audit> audits;
    private final boolean timeDependent;
    private final boolean detectOnly;
    private final List<String> files;

    PolicySet(String revision, List<CompiledRule> rules, List<Glob> databasePatterns, boolean timeDependent,
              boolean detectOnly, List<String> files) {
        this.revision = revision;
        this.rules = List.copyOf(rules);
        this.databasePatterns = List.copyOf(databasePatterns);
        List<CompiledRule.Access> allowRules = new ArrayList<>();
        List<CompiledRule.Access> denyRules = new ArrayList<>();
        List<CompiledRule.Mask> maskRules = new ArrayList<>();
        List<CompiledRule.Limit> limits = new ArrayList<>();
        List<CompiledRule.Guard> guardRules = new ArrayList<>();
        List<CompiledRule.Audit> auditRules = new ArrayList<>();
        for (CompiledRule rule : rules) {
            if (rule instanceof CompiledRule.Access access) {
                (access.effect() == Effect.ALLOW ? allowRules : denyRules).add(access);
            } else if (rule instanceof CompiledRule.Mask mask) {
                maskRules.add(mask);
            } else if (rule instanceof CompiledRule.Limit limit) {
                limits.add(limit);
            } else if (rule instanceof CompiledRule.Guard guard) {
                guardRules.add(guard);
            } else if (rule instanceof CompiledRule.Audit audit) {
                auditRules.add(audit);
            } else {
                throw new AssertionError("unhandled rule " + rule.getClass());
            }
        }
        this.allows = new RuleIndex(allowRules);
        this.denies = new RuleIndex(denyRules);
        this.masks = List.copyOf(maskRules);
        this.limitRules = List.copyOf(limits);
        this.guards = List.copyOf(guardRules);
        this.audits = List.copyOf(auditRules);
        this.timeDependent = timeDependent;
        this.detectOnly = detectOnly;
        this.files = List.copyOf(files);
    }

    /** SHA-256 of the set's files (names and contents, in name order), in hex. */
    public String revision() {
        return revision;
    }

    /** True when some condition reads hour, weekday or now; see {@link PrincipalClass}. */
    public boolean timeDependent() {
        return timeDependent;
    }

    /** True when every file of the set is in {@code mode detect}: then even the default deny is only recorded. */
    public boolean detectOnly() {
        return detectOnly;
    }

    public List<String> files() {
        return files;
    }

    /** Every rule id in source order, for reports of rules that never matched. */
    public List<String> ruleIds() {
        List<String> ids = new ArrayList<>();
        for (CompiledRule rule : rules) {
            ids.add(rule.head().id());
        }
        return ids;
    }

    // ------------------------------------------------------------------ principal

    public PrincipalClass principalClass(SessionContext session) {
        Objects.requireNonNull(session, "session");
        int ruleCount = rules.size();
        long[] bits = new long[(ruleCount + databasePatterns.size() + 63) / 64 + 1];
        for (int i = 0; i < ruleCount; i++) {
            CompiledRule.Head head = rules.get(i).head();
            Tri value;
            try {
                value = head.condition().evaluate(session);
            } catch (RuntimeException | StackOverflowError e) {
                value = Tri.ERROR;
            }
            if (value == Tri.TRUE || (value == Tri.ERROR && head.errorMeansMatch())) {
                bits[i >>> 6] |= 1L << i;
            }
        }
        for (int j = 0; j < databasePatterns.size(); j++) {
            if (databasePatterns.get(j).matches(session.database())) {
                int bit = ruleCount + j;
                bits[bit >>> 6] |= 1L << bit;
            }
        }
        return new PrincipalClass(revision, bits, ruleCount, timeDependent);
    }

    /** What depends on the principal class alone, cached on it so each decision does not recompute it. */
    private record Derived(MaskSet masks, MaskSet detectMasks, List<EffectiveLimit> limits, AuditLevel auditLevel) {
    }

    private Derived derived(PrincipalClass principal) {
        if (!principal.revision().equals(revision)) {
            // Bits of another revision index other rules: using them would apply the wrong rules.
            throw new IllegalArgumentException("the principal class was computed for policy revision "
                    + principal.revision() + ", not " + revision);
        }
        if (principal.derived() instanceof Derived cached) {
            return cached;
        }
        Derived derived = new Derived(new MaskSet(applicableMasks(principal, false)),
                new MaskSet(applicableMasks(principal, true)), computeLimits(principal), computeAuditLevel(principal));
        principal.derived(derived);
        return derived;
    }

    /** The limits in force for the principal, the smallest per (kind, scope); detect-mode files do not limit. */
    public List<EffectiveLimit> limits(PrincipalClass principal) {
        return derived(principal).limits();
    }

    private List<EffectiveLimit> computeLimits(PrincipalClass principal) {
        Map<LimitKind, Map<LimitScope, EffectiveLimit>> smallest = new EnumMap<>(LimitKind.class);
        for (CompiledRule.Limit rule : limitRules) {
            if (rule.head().detect() || !principal.applies(rule.head().index())) {
                continue;
            }
            for (EffectiveLimit entry : rule.entries()) {
                Map<LimitScope, EffectiveLimit> byScope = smallest.computeIfAbsent(entry.kind(), k -> new EnumMap<>(LimitScope.class));
                EffectiveLimit current = byScope.get(entry.scope());
                if (current == null || entry.tighterThan(current)) {
                    byScope.put(entry.scope(), entry);
                }
            }
        }
        List<EffectiveLimit> result = new ArrayList<>();
        for (Map<LimitScope, EffectiveLimit> byScope : smallest.values()) {
            result.addAll(byScope.values());
        }
        return List.copyOf(result);
    }

    /** The masks that apply to the principal (enforced ones; detect-mode masks are only reported). */
    /** Whether any mask rule of the set, for any principal, uses {@code function}. */
    public boolean usesMask(MaskFunction function) {
        return masks.stream().anyMatch(rule -> rule.mask().function() == function);
    }

    public MaskSet masks(PrincipalClass principal) {
        return derived(principal).masks();
    }

    /** The highest audit level of the rules that apply to the principal; NONE when none does. */
    public AuditLevel auditLevel(PrincipalClass principal) {
        return derived(principal).auditLevel();
    }

    private AuditLevel computeAuditLevel(PrincipalClass principal) {
        AuditLevel level = AuditLevel.NONE;
        for (CompiledRule.Audit audit : audits) {
            if (principal.applies(audit.head().index())) {
                level = level.atLeast(audit.level());
            }
        }
        return level;
    }

    // ------------------------------------------------------------------ evaluation

    /** Decides a whole Query (or Parse) message for a session. */
    public Decision evaluate(SessionContext session, QueryAnalysis query, NameResolver resolver) {
        try {
            return evaluate(principalClass(session), query, resolver);
        } catch (RuntimeException | StackOverflowError e) {
            return Decision.internalError("the policy engine failed (" + e.getClass().getSimpleName() + ")");
        }
    }

    /** Decides a whole message for a precomputed principal class (the cacheable path). */
    public Decision evaluate(PrincipalClass principal, QueryAnalysis query, NameResolver resolver) {
        try {
            return explain(principal, query, resolver, false).decision();
        } catch (RuntimeException | StackOverflowError e) {
            return Decision.internalError("the policy engine failed (" + e.getClass().getSimpleName() + ")");
        }
    }

    /** Decides one statement; message-level findings (stacked statements) are not considered. */
    public Decision evaluateStatement(PrincipalClass principal, StatementFacts facts, NameResolver resolver) {
        return evaluate(principal, new QueryAnalysis(List.of(facts), Set.of()), resolver);
    }

    /** The decision with every request and matching rule, for {@code explain}. */
    public Explanation explain(SessionContext session, QueryAnalysis query, NameResolver resolver) {
        try {
            return explain(principalClass(session), query, resolver, true);
        } catch (RuntimeException | StackOverflowError e) {
            return new Explanation(Decision.internalError("the policy engine failed (" + e.getClass().getSimpleName() + ")"),
                    List.of(), List.of(), List.of());
        }
    }

    private Explanation explain(PrincipalClass principal, QueryAnalysis query, NameResolver resolver, boolean trace) {
        Objects.requireNonNull(query, "query");
        Objects.requireNonNull(resolver, "resolver");
        if (!principal.revision().equals(revision)) {
            return new Explanation(Decision.internalError("the principal class was computed for policy revision "
                    + principal.revision() + ", not " + revision), List.of(), List.of(), List.of());
        }
        Derived derived = derived(principal);
        MaskSet maskSet = derived.masks();
        MaskSet detectMasks = derived.detectMasks();
        List<EffectiveLimit> limits = derived.limits();
        AuditLevel baseAudit = derived.auditLevel();

        Set<String> matched = trace ? new LinkedHashSet<>() : null;
        List<Explanation.StatementExplanation> statements = new ArrayList<>();
        for (StatementFacts facts : query.statements()) {
            statements.add(decide(principal, facts, resolver, maskSet, detectMasks, limits, baseAudit, matched));
        }
        GuardOutcome message = guards(principal, query.findings(), matched);
        if (statements.size() == 1 && message.findings.isEmpty()) {
            // The usual message, one statement: its decision is the message's decision.
            return new Explanation(statements.get(0).decision(), statements, List.of(),
                    trace ? inSourceOrder(matched, principal) : List.of());
        }

        boolean denied = !message.enforcedDenyIds.isEmpty();
        boolean wouldDeny = denied || !message.detectDenyIds.isEmpty();
        LinkedHashSet<String> denyIds = new LinkedHashSet<>(message.enforcedDenyIds);
        LinkedHashSet<String> allowIds = new LinkedHashSet<>();
        LinkedHashSet<String> detectIds = new LinkedHashSet<>(message.detectDenyIds);
        String reason = message.reason;
        Map<String, MaskSpec> columnMasks = new LinkedHashMap<>();
        List<GuardFinding> findings = new ArrayList<>(message.findings);
        AuditLevel audit = baseAudit;
        for (Explanation.StatementExplanation statement : statements) {
            Decision decision = statement.decision();
            if (!decision.allowed()) {
                denied = true;
                denyIds.addAll(decision.ruleIds());
                if (reason.isEmpty()) {
                    reason = decision.reason();
                }
            } else {
                allowIds.addAll(decision.ruleIds());
            }
            wouldDeny |= decision.wouldDeny();
            detectIds.addAll(decision.detectRuleIds());
            decision.masks().forEach(columnMasks::putIfAbsent);
            findings.addAll(decision.findings());
            audit = audit.atLeast(decision.auditLevel());
        }
        if (wouldDeny) {
            audit = audit.atLeast(AuditLevel.STATEMENTS);
        }
        Decision decision = new Decision(denied ? Effect.DENY : Effect.ALLOW,
                List.copyOf(denied ? denyIds : allowIds), denied ? reason : "", columnMasks, maskSet, limits,
                findings, audit, wouldDeny, List.copyOf(detectIds));
        return new Explanation(decision, statements, message.findings, trace ? inSourceOrder(matched, principal) : List.of());
    }

    /** The matched ids plus the principal's limit and audit rules, ordered as the rules are. */
    private List<String> inSourceOrder(Set<String> matched, PrincipalClass principal) {
        for (CompiledRule.Limit limit : limitRules) {
            if (principal.applies(limit.head().index())) {
                matched.add(limit.head().id());
            }
        }
        for (CompiledRule.Audit audit : audits) {
            if (principal.applies(audit.head().index())) {
                matched.add(audit.head().id());
            }
        }
        List<String> ordered = new ArrayList<>();
        for (CompiledRule rule : rules) {
            String id = rule.head().id();
            if (matched.contains(id) && !ordered.contains(id)) {
                ordered.add(id);
            }
        }
        return ordered;
    }

    private Explanation.StatementExplanation decide(PrincipalClass principal, StatementFacts facts, NameResolver resolver,
                                                    MaskSet maskSet, MaskSet detectMasks, List<EffectiveLimit> limits,
                                                    AuditLevel baseAudit, Set<String> matched) {
        boolean trace = matched != null;
        List<Request> requests = Requests.of(facts, resolver);
        int count = requests.size();
        List<List<CompiledRule.Access>> denyMatches = new ArrayList<>(count);
        List<List<CompiledRule.Access>> allowMatches = new ArrayList<>(count);
        boolean[] covered = new boolean[count];
        for (int i = 0; i < count; i++) {
            Request request = requests.get(i);
            denyMatches.add(denies.matching(request, true, principal));
            List<CompiledRule.Access> allowed = request.requiresAllow()
                    ? allows.matching(request, false, principal) : List.of();
            allowMatches.add(allowed);
            covered[i] = !request.requiresAllow() || !allowed.isEmpty();
        }
        coverByColumns(principal, requests, allowMatches, covered);

        TreeMap<Integer, CompiledRule.Access> enforcedDenies = new TreeMap<>();
        TreeMap<Integer, CompiledRule.Access> detectDenies = new TreeMap<>();
        TreeMap<Integer, CompiledRule.Access> usedAllows = new TreeMap<>();
        Request firstUncovered = null;
        for (int i = 0; i < count; i++) {
            for (CompiledRule.Access deny : denyMatches.get(i)) {
                (deny.head().detect() ? detectDenies : enforcedDenies).put(deny.head().index(), deny);
            }
            if (covered[i]) {
                for (CompiledRule.Access allow : allowMatches.get(i)) {
                    usedAllows.put(allow.head().index(), allow);
                }
            } else if (firstUncovered == null) {
                firstUncovered = requests.get(i);
            }
        }

        boolean analysed = facts.parsed() && facts.kind() != StatementKind.UNKNOWN;
        Set<Heuristic> heuristics = EnumSet.noneOf(Heuristic.class);
        heuristics.addAll(facts.findings());
        if (!analysed) {
            heuristics.add(Heuristic.UNPARSED);
        }
        GuardOutcome guard = guards(principal, heuristics, matched);

        Map<String, MaskSpec> columnMasks = new LinkedHashMap<>();
        LinkedHashSet<String> detectIds = new LinkedHashSet<>();
        for (CompiledRule.Access deny : detectDenies.values()) {
            detectIds.add(deny.head().id());
        }
        detectIds.addAll(guard.detectDenyIds);
        // A masked column inside a select-list expression (upper(ssn)) cannot be masked in the
        // result, whose lineage is lost: the statement is denied instead (DESIGN.md, "Masking").
        LinkedHashSet<String> maskDenyIds = new LinkedHashSet<>();
        String maskReason = "";
        for (ColumnUse use : facts.columns()) {
            if (use.clause() == Clause.FILTER || use.clause() == Clause.ASSIGNMENT || "*".equals(use.column())) {
                continue;
            }
            for (Request request : requests) {
                if (request.kind() != ResourceKind.COLUMN || !use.column().equals(request.column())) {
                    continue;
                }
                // Compare the resolved owner, schema included: payments.t.ssn masked must not make
                // archive.t.ssn masked (or deny upper(archive.t.ssn)) in the same statement.
                if (use.table() != null && !request.object().equals(resolver.relation(use.table()))) {
                    continue;
                }
                String column = request.object() + "." + use.column();
                Optional<MaskBinding> mask = maskSet.maskFor(request.object(), use.column());
                Optional<MaskBinding> detectMask = detectMasks.maskFor(request.object(), use.column());
                mask.ifPresent(b -> columnMasks.putIfAbsent(column, b.mask()));
                if (trace) {
                    mask.ifPresent(b -> matched.add(b.ruleId()));
                    detectMask.ifPresent(b -> matched.add(b.ruleId()));
                }
                detectMask.ifPresent(b -> detectIds.add(b.ruleId()));
                if (use.insideExpression() && mask.isPresent()) {
                    maskDenyIds.add(mask.get().ruleId());
                    if (maskReason.isEmpty()) {
                        maskReason = "column " + column + " is masked for this session and cannot be used"
                                + " inside an expression";
                    }
                }
            }
        }

        boolean defaultDeny = firstUncovered != null;
        boolean denied = !enforcedDenies.isEmpty() || !guard.enforcedDenyIds.isEmpty() || !maskDenyIds.isEmpty()
                || (defaultDeny && !detectOnly);
        boolean wouldDeny = denied || defaultDeny || !detectDenies.isEmpty() || !guard.detectDenyIds.isEmpty();

        List<String> ruleIds = new ArrayList<>();
        String reason = "";
        if (denied) {
            for (CompiledRule.Access deny : enforcedDenies.values()) {
                ruleIds.add(deny.head().id());
            }
            ruleIds.addAll(guard.enforcedDenyIds);
            ruleIds.addAll(maskDenyIds);
            if (!enforcedDenies.isEmpty()) {
                CompiledRule.Access first = enforcedDenies.firstEntry().getValue();
                reason = first.head().reason().isEmpty() ? "denied by rule " + first.head().id() : first.head().reason();
            } else if (!guard.enforcedDenyIds.isEmpty()) {
                reason = guard.reason;
            } else if (!maskDenyIds.isEmpty()) {
                reason = maskReason;
            } else {
                reason = defaultDenyReason(firstUncovered);
            }
        } else {
            for (CompiledRule.Access allow : usedAllows.values()) {
                ruleIds.add(allow.head().id());
            }
        }
        AuditLevel audit = wouldDeny ? baseAudit.atLeast(AuditLevel.STATEMENTS) : baseAudit;
        Decision decision = new Decision(denied ? Effect.DENY : Effect.ALLOW, ruleIds, reason, columnMasks, maskSet,
                limits, guard.findings, audit, wouldDeny, List.copyOf(detectIds));

        List<RequestTrace> traces = List.of();
        if (trace) {
            traces = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                matched.addAll(ids(denyMatches.get(i)));
                matched.addAll(ids(allowMatches.get(i)));
                traces.add(new RequestTrace(requests.get(i), ids(denyMatches.get(i)), ids(allowMatches.get(i)), covered[i]));
            }
        }
        return new Explanation.StatementExplanation(facts, traces, decision);
    }

    /**
     * A table request that no table-level allow covers is still covered when the statement names
     * at least one column of the table for that action and column-level allows cover every one of
     * them. {@code SELECT *} names no column for certain, so it needs a table-level allow.
     */
    private void coverByColumns(PrincipalClass principal, List<Request> requests,
                                List<List<CompiledRule.Access>> allowMatches, boolean[] covered) {
        for (int i = 0; i < requests.size(); i++) {
            Request table = requests.get(i);
            if (covered[i] || table.kind() != ResourceKind.TABLE) {
                continue;
            }
            List<CompiledRule.Access> used = new ArrayList<>();
            boolean any = false;
            boolean all = true;
            for (Request column : requests) {
                if (column.kind() != ResourceKind.COLUMN || column.action() != table.action()
                        || !column.object().equals(table.object())) {
                    continue;
                }
                any = true;
                List<CompiledRule.Access> allowed = "*".equals(column.column())
                        ? List.of() : allows.matching(column, false, principal);
                if (allowed.isEmpty()) {
                    all = false;
                    break;
                }
                used.addAll(allowed);
            }
            if (any && all) {
                covered[i] = true;
                allowMatches.set(i, List.copyOf(new LinkedHashSet<>(used)));
            }
        }
    }

    private static String defaultDenyReason(Request request) {
        String text = "no allow rule covers " + request;
        if (request.object() != null && !request.object().isCertain()) {
            text += " (the schema of " + request.object().name() + " is not certain under the search_path,"
                    + " so only allow rules that do not name a schema apply)";
        }
        return text;
    }

    private static List<String> ids(List<CompiledRule.Access> rules) {
        List<String> ids = new ArrayList<>(rules.size());
        for (CompiledRule.Access rule : rules) {
            ids.add(rule.head().id());
        }
        return ids;
    }

    private List<CompiledRule.Mask> applicableMasks(PrincipalClass principal, boolean detect) {
        List<CompiledRule.Mask> applicable = new ArrayList<>();
        for (CompiledRule.Mask mask : masks) {
            if (mask.head().detect() == detect && principal.applies(mask.head().index())) {
                applicable.add(mask);
            }
        }
        return applicable;
    }

    // ------------------------------------------------------------------ guards

    private static final class GuardOutcome {
        final List<GuardFinding> findings = new ArrayList<>();
        final List<String> enforcedDenyIds = new ArrayList<>();
        final List<String> detectDenyIds = new ArrayList<>();
        String reason = "";
    }

    /**
     * The strongest matching guard per heuristic. An unparsed statement with no guard rule for
     * it is denied: DESIGN.md makes {@code unparsed} deny by default, because a statement the
     * analyser could not read may hide anything.
     */
    private GuardOutcome guards(PrincipalClass principal, Set<Heuristic> heuristics, Set<String> matched) {
        GuardOutcome outcome = new GuardOutcome();
        for (Heuristic heuristic : Heuristic.values()) {
            if (!heuristics.contains(heuristic)) {
                continue;
            }
            GuardAction enforced = null;
            GuardAction detect = null;
            for (CompiledRule.Guard guard : guards) {
                if (guard.heuristic() != heuristic || !principal.applies(guard.head().index())) {
                    continue;
                }
                if (matched != null) {
                    matched.add(guard.head().id());
                }
                if (guard.head().detect()) {
                    detect = strongest(detect, guard.action());
                } else {
                    enforced = strongest(enforced, guard.action());
                }
            }
            if (enforced == null && detect == null) {
                if (heuristic == Heuristic.UNPARSED) {
                    if (detectOnly) {
                        detect = GuardAction.DENY;
                    } else {
                        enforced = GuardAction.DENY;
                    }
                } else {
                    enforced = GuardAction.OFF;
                }
            }
            GuardAction action = strongest(enforced, detect);
            boolean fromDetect = enforced == null || action.compareTo(enforced) > 0;
            String id = "guard." + heuristic.keyword();
            outcome.findings.add(new GuardFinding(heuristic, action, id, fromDetect));
            if (enforced == GuardAction.DENY) {
                outcome.enforcedDenyIds.add(id);
                if (outcome.reason.isEmpty()) {
                    outcome.reason = "guard " + heuristic.keyword() + ": " + describe(heuristic);
                }
            } else if (detect == GuardAction.DENY) {
                outcome.detectDenyIds.add(id);
            }
        }
        return outcome;
    }

    private static GuardAction strongest(GuardAction a, GuardAction b) {
        if (a == null) {
            return b;
        }
        if (b == null) {
            return a;
        }
        return a.compareTo(b) >= 0 ? a : b;
    }

    private static String describe(Heuristic heuristic) {
        return switch (heuristic) {
            case STACKED_STATEMENTS -> "more than one statement in one query";
            case TAUTOLOGY -> "an always-true OR branch in a condition";
            case UNION_PROBE -> "a UNION arm of constants or catalog data";
            case COMMENT_AFTER_LITERAL -> "a comment right after a string literal";
            case SLEEP -> "a call to pg_sleep";
            case CATALOG_PROBE -> "a read of the system catalog";
            case FILE_ACCESS -> "access to server files";
            case PROGRAM_EXEC -> "execution of a server-side program";
            case UNPARSED -> "the statement could not be analysed";
        };
    }

    @Override
    public String toString() {
        return "PolicySet[" + revision + ", " + rules.size() + " rules, files " + files + "]";
    }
}
