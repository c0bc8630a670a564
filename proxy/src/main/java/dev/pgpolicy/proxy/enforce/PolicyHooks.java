package dev.pgpolicy.proxy.enforce;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.pgpolicy.policy.Decision;
import dev.pgpolicy.policy.GuardAction;
import dev.pgpolicy.policy.GuardFinding;
import dev.pgpolicy.policy.NameResolver;
import dev.pgpolicy.policy.PolicySet;
import dev.pgpolicy.policy.PrincipalClass;
import dev.pgpolicy.policy.SessionContext;
import dev.pgpolicy.proxy.session.SessionHooks;
import dev.pgpolicy.proxy.session.SessionInfo;
import dev.pgpolicy.proxy.session.Verdict;
import dev.pgpolicy.proxy.wire.Bind;
import dev.pgpolicy.proxy.wire.ErrorResponse;
import dev.pgpolicy.proxy.wire.FunctionCall;
import dev.pgpolicy.proxy.wire.Parse;
import dev.pgpolicy.proxy.wire.Query;
import dev.pgpolicy.proxy.wire.SqlState;
import dev.pgpolicy.sql.Heuristic;
import dev.pgpolicy.sql.QueryAnalysis;
import dev.pgpolicy.sql.SqlAnalyzer;
import dev.pgpolicy.sql.StatementFacts;
import dev.pgpolicy.sql.StatementKind;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Enforces the live policy set on every Query, Parse and Bind (issue "Enforce policies"):
 *
 * <pre>
 *   event loop                      decision worker                         event loop
 *   onQuery/onParse ─► pending ──►  analyse (SqlAnalyzer, cached)      ──►  FORWARD | DENY 42501
 *                                   principal class of the session         (session applies it
 *                                   decision (cached per revision,          in protocol order)
 *                                   principal class, search path, SQL)
 * </pre>
 *
 * A denial carries SQLSTATE 42501, the determining rule ids in the message and the rule's
 * {@code @reason} in DETAIL; the session makes the server fail the statement in its place, so
 * transaction blocks and pipelines end exactly as if PostgreSQL had refused it. Guard findings
 * with {@code warn} are logged and allowed; detect-mode rules are logged as "would deny" and not
 * enforced. A prepared statement keeps the decision taken at its Parse; a Bind re-evaluates it
 * only when the policy revision changed since.
 */
public final class PolicyHooks implements SessionHooks, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(PolicyHooks.class);
    private static final int DECISION_QUEUE = 4096;
    private static final long DECISION_CACHE_ENTRIES = 50_000;

    private final LivePolicy policy;
    private final SqlAnalyzer analyzer;
    private final DecisionListener listener;
    private final Clock clock;
    private final ThreadPoolExecutor workers;
    private final Cache<DecisionKey, Decision> decisions =
            Caffeine.newBuilder().maximumSize(DECISION_CACHE_ENTRIES).build();
    /** Per-session state, dropped with the session object (weak keys compare by identity). */
    private final Cache<SessionInfo, SessionState> sessions = Caffeine.newBuilder().weakKeys().build();

    /** Closed with the hooks: analyzers the hooks created themselves. */
    private final List<AutoCloseable> owned = new ArrayList<>();

    /**
     * Loads the policy set in {@code directory} (its tests run first) and builds hooks enforcing it,
     * owning their analyzers. Throws {@link LivePolicy.RefusedException} listing every problem when
     * the set cannot go live.
     */
    public static PolicyHooks forDirectory(java.nio.file.Path directory, DecisionListener listener) {
        SqlAnalyzer testAnalyzer = dev.pgpolicy.policy.testing.PolicyTestRunner.offlineAnalyzer();
        LivePolicy live;
        try {
            live = LivePolicy.load(directory, testAnalyzer);
        } catch (RuntimeException e) {
            testAnalyzer.close();
            throw e;
        }
        PolicyHooks hooks = new PolicyHooks(live, new SqlAnalyzer(), listener, Clock.systemUTC());
        hooks.owned.add(hooks.analyzer);
        hooks.owned.add(testAnalyzer);
        return hooks;
    }

    public PolicyHooks(LivePolicy policy, SqlAnalyzer analyzer, DecisionListener listener, Clock clock) {
        this.policy = Objects.requireNonNull(policy);
        this.analyzer = Objects.requireNonNull(analyzer);
        this.listener = Objects.requireNonNull(listener);
        this.clock = Objects.requireNonNull(clock);
        int threads = Math.max(2, Runtime.getRuntime().availableProcessors());
        AtomicInteger counter = new AtomicInteger();
        this.workers = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(DECISION_QUEUE), task -> {
                    Thread thread = new Thread(task, "pgpolicy-decide-" + counter.incrementAndGet());
                    thread.setDaemon(true);
                    return thread;
                }, new ThreadPoolExecutor.AbortPolicy());
        this.workers.allowCoreThreadTimeOut(true);
    }

    public LivePolicy policy() {
        return policy;
    }

    // ------------------------------------------------------------------ hooks

    @Override
    public Verdict onQuery(SessionInfo session, Query query) {
        SessionState state = state(session);
        return decideLater(() -> {
            Verdict verdict = decide(session, state, "Query", query.sql());
            if (verdict.action() != Verdict.Action.DENY) {
                state.searchPath.follow(query.sql(), state.lastStatementCount == 1);
            }
            return verdict;
        });
    }

    @Override
    public Verdict onParse(SessionInfo session, Parse parse) {
        SessionState state = state(session);
        String name = parse.statementName();
        return decideLater(() -> {
            // Until this Parse is decided, its name means nothing the proxy allowed.
            state.statements.remove(name);
            Verdict verdict = decide(session, state, "Parse", parse.sql());
            if (verdict.action() != Verdict.Action.DENY) {
                state.statements.put(name, new PreparedDecision(parse.sql(), state.lastRevision));
                state.searchPath.follow(parse.sql(), state.lastStatementCount == 1);
            }
            return verdict;
        });
    }

    @Override
    public Verdict onBind(SessionInfo session, Bind bind, Optional<String> statementSql) {
        SessionState state = state(session);
        PreparedDecision prepared = state.statements.get(bind.statementName());
        String revision = policy.current().set().revision();
        if (prepared != null && prepared.revision().equals(revision)) {
            return Verdict.FORWARD; // decided at its Parse, under the policy still in force
        }
        Optional<String> sql = prepared != null ? Optional.of(prepared.sql()) : statementSql;
        if (sql.isEmpty()) {
            // A statement the proxy never saw parsed: a SQL-level PREPARE (decided when it ran) or
            // a name the server does not know (it refuses the Bind itself), or a statement whose
            // Parse was denied (the server is then discarding until Sync anyway).
            return Verdict.FORWARD;
        }
        String text = sql.get();
        return decideLater(() -> {
            Verdict verdict = decide(session, state, "Bind", text);
            if (verdict.action() == Verdict.Action.DENY) {
                state.statements.remove(bind.statementName());
            } else {
                state.statements.put(bind.statementName(), new PreparedDecision(text, state.lastRevision));
            }
            return verdict;
        });
    }

    /**
     * A fast-path call runs a function by OID, with no SQL the policy could judge; PostgreSQL's
     * documentation itself calls the interface obsolete. Refused, so that function rules cannot
     * be bypassed through it.
     */
    @Override
    public Verdict onFunctionCall(SessionInfo session, FunctionCall call) {
        return Verdict.deny(ErrorResponse.of(ErrorResponse.SEVERITY_ERROR, SqlState.INSUFFICIENT_PRIVILEGE,
                "pgpolicy: permission denied for fast-path function call",
                "fast-path function calls name functions by OID, which policies cannot check; call the function in SQL"));
    }

    // ------------------------------------------------------------------ deciding

    private Verdict decideLater(Supplier<Verdict> decision) {
        try {
            return Verdict.pending(CompletableFuture.supplyAsync(decision, workers));
        } catch (RejectedExecutionException e) {
            // Overloaded: refuse this statement rather than queue without bound; the session goes on.
            return Verdict.deny(ErrorResponse.of(ErrorResponse.SEVERITY_ERROR, SqlState.INSUFFICIENT_RESOURCES,
                    "pgpolicy: too many statements waiting for a policy decision; try again"));
        }
    }

    /** Analyses and evaluates one message's SQL; runs on a decision worker. */
    private Verdict decide(SessionInfo session, SessionState state, String message, String sql) {
        LivePolicy.Loaded loaded = policy.current();
        PolicySet set = loaded.set();
        boolean standardConformingStrings = !session.serverParameter("standard_conforming_strings")
                .map(value -> value.equalsIgnoreCase("off")).orElse(false);
        QueryAnalysis analysis = analyzer.analyze(sql, standardConformingStrings);
        state.lastStatementCount = analysis.statements().size();
        state.lastRevision = set.revision();

        SessionContext context = context(session);
        PrincipalClass principal = state.principal(set, context);
        NameResolver resolver = state.searchPath.resolver(session);
        Decision decision;
        if (principal.timeDependent()) {
            decision = set.evaluate(principal, analysis, resolver);
        } else {
            DecisionKey key = DecisionKey.of(principal, state.searchPath.cacheKey(session), analysis);
            decision = decisions.get(key, k -> set.evaluate(principal, analysis, resolver));
        }
        logFindings(session, decision, analysis);
        if (!decision.allowed()) {
            LOG.info("session {}: denied {} for user={} by {}: {} [fingerprint {}]", session.id(), message,
                    session.user().orElse(""), decision.ruleIds().isEmpty() ? "default deny" : decision.ruleIds(),
                    decision.reason(), fingerprints(analysis));
            listener.decided(session, message, sql, decision, DecisionListener.Outcome.DENIED, loaded.revision());
            return Verdict.deny(denial(decision));
        }
        if (decision.wouldDeny()) {
            LOG.warn("session {}: detect mode: would deny {} for user={} by {} [fingerprint {}]", session.id(), message,
                    session.user().orElse(""), decision.detectRuleIds(), fingerprints(analysis));
            listener.decided(session, message, sql, decision, DecisionListener.Outcome.WOULD_DENY, loaded.revision());
            return Verdict.FORWARD;
        }
        if (!decision.detectRuleIds().isEmpty()) {
            LOG.info("session {}: detect mode: would mask for user={} by {} [fingerprint {}]", session.id(),
                    session.user().orElse(""), decision.detectRuleIds(), fingerprints(analysis));
        }
        listener.decided(session, message, sql, decision, DecisionListener.Outcome.ALLOWED, loaded.revision());
        return Verdict.FORWARD;
    }

    private static void logFindings(SessionInfo session, Decision decision, QueryAnalysis analysis) {
        for (GuardFinding finding : decision.findings()) {
            if (finding.action() == GuardAction.WARN || (finding.action() == GuardAction.DENY && finding.detect())) {
                LOG.warn("session {}: guard {} for user={}: {} [fingerprint {}]", session.id(),
                        finding.action() == GuardAction.WARN ? "warning" : "would deny (detect mode)",
                        session.user().orElse(""), finding.heuristic().keyword(), fingerprints(analysis));
            }
        }
    }

    private static String fingerprints(QueryAnalysis analysis) {
        return analysis.statements().stream().map(StatementFacts::fingerprint).collect(Collectors.joining(","));
    }

    /** LANGUAGE.md: 42501, the rule id in the message, {@code @reason} in DETAIL. */
    static ErrorResponse denial(Decision decision) {
        List<String> ids = decision.ruleIds();
        String message;
        if (ids.isEmpty()) {
            message = "pgpolicy: permission denied: no policy rule allows this statement";
        } else if (ids.size() == 1) {
            message = "pgpolicy: permission denied by rule \"" + ids.get(0) + "\"";
        } else {
            message = "pgpolicy: permission denied by rules "
                    + ids.stream().map(id -> "\"" + id + "\"").collect(Collectors.joining(", "));
        }
        String reason = decision.reason();
        return ErrorResponse.of(ErrorResponse.SEVERITY_ERROR, SqlState.INSUFFICIENT_PRIVILEGE, message,
                reason == null || reason.isEmpty() ? null : reason);
    }

    /**
     * The session as policies see it. Passthrough mode: the server authenticated the user, who is
     * also the upstream role; the proxy knows no groups.
     */
    SessionContext context(SessionInfo session) {
        InetSocketAddress address = session.clientAddress();
        InetAddress ip = address == null ? null : address.getAddress();
        String user = session.user().orElse("");
        return new SessionContext(user, Set.of(), user, session.database().orElse(""),
                session.applicationName().orElse(""), ip, "passthrough", session.tls(), null, clock.instant(), null);
    }

    private SessionState state(SessionInfo session) {
        return sessions.get(session, s -> new SessionState());
    }

    @Override
    public void close() {
        workers.shutdownNow();
        for (AutoCloseable resource : owned) {
            try {
                resource.close();
            } catch (Exception e) {
                LOG.warn("closing {} failed", resource, e);
            }
        }
    }

    // ------------------------------------------------------------------ state

    /** A statement's text and the policy revision that allowed it. */
    private record PreparedDecision(String sql, String revision) {
    }

    /** What one session's decisions need to remember; touched by its event loop and one worker at a time. */
    private static final class SessionState {
        final Map<String, PreparedDecision> statements = new ConcurrentHashMap<>();
        final SearchPathTracker searchPath = new SearchPathTracker();
        volatile PrincipalClass principal;
        volatile SessionContext principalContext;
        volatile int lastStatementCount;
        volatile String lastRevision;

        /** The principal class, recomputed when the set or the session's attributes changed, or when it reads time. */
        PrincipalClass principal(PolicySet set, SessionContext context) {
            PrincipalClass cached = principal;
            SessionContext cachedContext = principalContext;
            if (cached != null && !cached.timeDependent() && cached.revision().equals(set.revision())
                    && cachedContext != null && sameAttributes(cachedContext, context)) {
                return cached;
            }
            PrincipalClass computed = set.principalClass(context);
            principal = computed;
            principalContext = context;
            return computed;
        }

        private static boolean sameAttributes(SessionContext a, SessionContext b) {
            return a.user().equals(b.user()) && a.groups().equals(b.groups()) && a.dbUser().equals(b.dbUser())
                    && a.database().equals(b.database()) && a.applicationName().equals(b.applicationName())
                    && Objects.equals(a.clientIp(), b.clientIp()) && a.auth().equals(b.auth()) && a.tls() == b.tls()
                    && Objects.equals(a.certCn(), b.certCn());
        }
    }

    /**
     * Decisions depend on (revision, principal class, search path, statement) only (see
     * {@link PolicySet}); the statement is its normalized text plus whatever the analysis found
     * beyond it (heuristics that read constants, parse success), so two messages share a decision
     * only when they cannot be told apart by the engine.
     */
    private record DecisionKey(PrincipalClass principal, String searchPath, List<Object> statements,
            Set<Heuristic> messageFindings) {

        static DecisionKey of(PrincipalClass principal, String searchPath, QueryAnalysis analysis) {
            List<Object> statements = new ArrayList<>(analysis.statements().size());
            for (StatementFacts facts : analysis.statements()) {
                statements.add(new StatementKey(facts.kind(), facts.normalized(), facts.parsed(), facts.findings()));
            }
            return new DecisionKey(principal, searchPath, statements, analysis.findings());
        }
    }

    private record StatementKey(StatementKind kind, String normalized, boolean parsed, Set<Heuristic> findings) {
    }
}
