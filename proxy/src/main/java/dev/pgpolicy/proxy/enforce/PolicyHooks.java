package dev.pgpolicy.proxy.enforce;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.pgpolicy.policy.Decision;
import dev.pgpolicy.policy.MaskFunction;
import dev.pgpolicy.policy.MaskSet;
import dev.pgpolicy.policy.MaskSpec;
import dev.pgpolicy.policy.GuardAction;
import dev.pgpolicy.policy.GuardFinding;
import dev.pgpolicy.policy.NameResolver;
import dev.pgpolicy.policy.PolicySet;
import dev.pgpolicy.policy.PrincipalClass;
import dev.pgpolicy.policy.SessionContext;
import dev.pgpolicy.proxy.catalog.CatalogCache;
import dev.pgpolicy.proxy.session.CopyFilter;
import dev.pgpolicy.proxy.session.InFlightRequest;
import dev.pgpolicy.proxy.session.RowFilter;
import dev.pgpolicy.proxy.session.SessionAttachments;
import dev.pgpolicy.proxy.session.SessionHooks;
import dev.pgpolicy.proxy.session.SessionInfo;
import dev.pgpolicy.proxy.session.Verdict;
import dev.pgpolicy.proxy.wire.Bind;
import dev.pgpolicy.proxy.wire.CopyOutResponse;
import dev.pgpolicy.proxy.wire.ErrorResponse;
import dev.pgpolicy.proxy.wire.FunctionCall;
import dev.pgpolicy.proxy.wire.Parse;
import dev.pgpolicy.proxy.wire.Query;
import dev.pgpolicy.proxy.wire.RowDescription;
import dev.pgpolicy.proxy.wire.SqlState;
import dev.pgpolicy.sql.Heuristic;
import dev.pgpolicy.sql.QueryAnalysis;
import dev.pgpolicy.sql.SqlAnalyzer;
import dev.pgpolicy.sql.StatementFacts;
import dev.pgpolicy.sql.StatementKind;
import dev.pgpolicy.sql.TableAccess;
import java.sql.SQLException;
import java.util.HashSet;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
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
 *          │                        principal class of the session         (session applies it
 *          │                        decision (cached per revision,          in protocol order)
 *          │                        principal class, search path, SQL)
 *          └─ analysis and catalog facts cached (tryDecideNow): the same decision, on the event loop
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
    /** Resolves result columns for masking; null when no metadata connection is configured. */
    private final CatalogCache catalog;
    /** The mask plans of result layouts seen before (built by {@link #buildPlan}). */
    private final RowPlanCache rowPlans = new RowPlanCache();
    /** Resolves unqualified names: search_path, "$user" and placements through the catalog. */
    private final LiveNames liveNames;
    /** The key of hash() masks: configured (masking.hash_key_file) or random per process. */
    private final MaskingKey hashKey;
    /** How COPY ... TO output is masked for principals with masks (or refused when it cannot be). */
    private final CopyOutPlanner copyOut;
    private final Executor workers;
    /** The pool behind {@link #workers} when the hooks made it themselves (and shut it down). */
    private final ThreadPoolExecutor ownWorkers;
    private final AtomicLong decidedNow = new AtomicLong();
    private final AtomicLong decidedLater = new AtomicLong();
    private volatile String lastRevision;
    private final Throttles throttles = new Throttles();
    /** Ends sessions idle beyond their limit; PostgreSQL checks its own idle timeouts the same way, by timer. */
    private final java.util.concurrent.ScheduledExecutorService idleWatch =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(task -> {
                Thread thread = new Thread(task, "pgpolicy-idle-watch");
                thread.setDaemon(true);
                return thread;
            });
    // The caches below do their maintenance on the calling thread: Caffeine's default hands it to
    // the common ForkJoinPool every few reads and after each write, which on the statement path
    // is a thread wake-up costing more than the maintenance itself.
    private final Cache<DecisionKey, Decision> decisions =
            Caffeine.newBuilder().maximumSize(DECISION_CACHE_ENTRIES).executor(Runnable::run).build();
    /** Per-session state, kept with the session ({@link #state}): looked up several times per statement. */
    private final SessionAttachments.Key<SessionState> stateKey = new SessionAttachments.Key<>("policy hooks");
    /**
     * The sessions that have state, for the idle check, which walks them all; dropped with the
     * session object (weak keys compare by identity). Written once per session, never read on the
     * statement path.
     */
    private final Cache<SessionInfo, SessionState> sessions =
            Caffeine.newBuilder().weakKeys().executor(Runnable::run).build();

    /** Closed with the hooks: analyzers the hooks created themselves. */
    private final List<AutoCloseable> owned = new ArrayList<>();

    /**
     * Loads the policy set in {@code directory} (its tests run first) and builds hooks enforcing it,
     * owning their analyzers. Throws {@link LivePolicy.RefusedException} listing every problem when
     * the set cannot go live.
     */
    public static PolicyHooks forDirectory(java.nio.file.Path directory, DecisionListener listener) {
        return forDirectory(directory, listener, null);
    }

    /** As {@link #forDirectory(java.nio.file.Path, DecisionListener)}, masking through {@code catalog} (owned: closed with the hooks). */
    public static PolicyHooks forDirectory(java.nio.file.Path directory, DecisionListener listener, CatalogCache catalog) {
        return forDirectory(directory, listener, catalog, MaskingKey.perProcess());
    }

    /** As {@link #forDirectory(java.nio.file.Path, DecisionListener, CatalogCache)}, hashing with {@code hashKey} (owned). */
    public static PolicyHooks forDirectory(java.nio.file.Path directory, DecisionListener listener, CatalogCache catalog,
            MaskingKey hashKey) {
        SqlAnalyzer testAnalyzer = dev.pgpolicy.policy.testing.PolicyTestRunner.offlineAnalyzer();
        LivePolicy live;
        try {
            live = LivePolicy.load(directory, testAnalyzer);
        } catch (RuntimeException e) {
            testAnalyzer.close();
            throw e;
        }
        PolicyHooks hooks = new PolicyHooks(live, new SqlAnalyzer(), listener, Clock.systemUTC(), catalog, hashKey);
        hooks.owned.add(hooks.analyzer);
        hooks.owned.add(hashKey);
        hashKey.warnIfUnstable(live.current().set());
        if (catalog != null) {
            hooks.owned.add(catalog);
        } else {
            LOG.warn("no catalog account configured (catalog.user): result columns cannot be resolved, so every"
                    + " column from a table is NULL for sessions that any mask rule applies to");
        }
        hooks.owned.add(testAnalyzer);
        return hooks;
    }

    public PolicyHooks(LivePolicy policy, SqlAnalyzer analyzer, DecisionListener listener, Clock clock) {
        this(policy, analyzer, listener, clock, null);
    }

    /** @param catalog resolves result columns for masking; null to NULL every table column a mask could apply to */
    public PolicyHooks(LivePolicy policy, SqlAnalyzer analyzer, DecisionListener listener, Clock clock,
            CatalogCache catalog) {
        this(policy, analyzer, listener, clock, catalog, MaskingKey.perProcess());
    }

    /** @param hashKey the key of hash() masks; the caller closes it */
    public PolicyHooks(LivePolicy policy, SqlAnalyzer analyzer, DecisionListener listener, Clock clock,
            CatalogCache catalog, MaskingKey hashKey) {
        this(policy, analyzer, listener, clock, catalog, hashKey, null);
    }

    /**
     * @param decisionWorkers runs the decisions that may block (cold SQL analysis, catalog
     *                        lookups); it must refuse work rather than queue without bound, and
     *                        the caller shuts it down; null for the hooks' own bounded pool
     */
    public PolicyHooks(LivePolicy policy, SqlAnalyzer analyzer, DecisionListener listener, Clock clock,
            CatalogCache catalog, MaskingKey hashKey, Executor decisionWorkers) {
        this.catalog = catalog;
        this.liveNames = new LiveNames(catalog);
        this.hashKey = Objects.requireNonNull(hashKey);
        this.copyOut = new CopyOutPlanner(catalog, hashKey);
        this.policy = Objects.requireNonNull(policy);
        this.analyzer = Objects.requireNonNull(analyzer);
        this.listener = Objects.requireNonNull(listener);
        this.clock = Objects.requireNonNull(clock);
        if (decisionWorkers != null) {
            this.ownWorkers = null;
            this.workers = decisionWorkers;
        } else {
            int threads = Math.max(2, Runtime.getRuntime().availableProcessors());
            AtomicInteger counter = new AtomicInteger();
            this.ownWorkers = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS,
                    new ArrayBlockingQueue<>(DECISION_QUEUE), task -> {
                        Thread thread = new Thread(task, "pgpolicy-decide-" + counter.incrementAndGet());
                        thread.setDaemon(true);
                        return thread;
                    }, new ThreadPoolExecutor.AbortPolicy());
            this.ownWorkers.allowCoreThreadTimeOut(true);
            this.workers = ownWorkers;
        }
        this.idleWatch.scheduleWithFixedDelay(this::checkIdleSessions, IDLE_CHECK_MILLIS, IDLE_CHECK_MILLIS,
                TimeUnit.MILLISECONDS);
    }

    private static final long IDLE_CHECK_MILLIS = 250;

    private static void runOnSession(SessionInfo session, Runnable task) {
        try {
            session.execute(task);
        } catch (RejectedExecutionException e) {
            // The session's event loop is shutting down with the proxy: nothing left to end.
        }
    }

    /**
     * The {@code idle} and {@code idle_in_transaction} limits: a ready session that has asked the
     * server nothing for longer ends with PostgreSQL's own errors for its idle_session_timeout
     * (57P05) and idle_in_transaction_session_timeout (25P03), both FATAL.
     */
    private void checkIdleSessions() {
        try {
            PolicySet set = policy.current().set();
            sessions.asMap().forEach((session, state) -> {
                if (!state.ready || state.closed) {
                    return;
                }
                java.time.Duration idle = null;
                java.time.Duration idleInTransaction = null;
                java.time.Duration statementTimeout = null;
                for (dev.pgpolicy.policy.EffectiveLimit limit : set.limits(state.principal(set, session, this::context))) {
                    if (limit.kind() == dev.pgpolicy.lang.LimitKind.IDLE) {
                        idle = limit.duration();
                    } else if (limit.kind() == dev.pgpolicy.lang.LimitKind.IDLE_IN_TRANSACTION) {
                        idleInTransaction = limit.duration();
                    } else if (limit.kind() == dev.pgpolicy.lang.LimitKind.STATEMENT_TIMEOUT) {
                        statementTimeout = limit.duration();
                    }
                }
                if (idle == null && idleInTransaction == null && statementTimeout == null) {
                    return;
                }
                java.time.Duration idleLimit = idle;
                java.time.Duration transactionLimit = idleInTransaction;
                java.time.Duration runLimit = statementTimeout;
                runOnSession(session, () -> {
                    long since = session.idleSinceNanos();
                    if (since < 0) {
                        // Busy since the last ReadyForQuery: the statement_timeout limit cancels it
                        // upstream (once per statement), and the server answers the client with 57014.
                        long ready = session.lastReadyNanos();
                        if (runLimit != null && ready >= 0 && state.cancelledAfterReady != ready
                                && System.nanoTime() - ready >= runLimit.toNanos()) {
                            state.cancelledAfterReady = ready;
                            LOG.info("session {}: statement_timeout {} reached for user={}: cancelling", session.id(),
                                    runLimit, session.user().orElse(""));
                            session.cancelRunningStatement();
                        }
                        return;
                    }
                    long idleNanos = System.nanoTime() - since;
                    boolean inTransaction = session.transactionStatus() != 'I';
                    if (inTransaction && transactionLimit != null && idleNanos >= transactionLimit.toNanos()) {
                        session.terminate(ErrorResponse.fatal(SqlState.IDLE_IN_TRANSACTION_SESSION_TIMEOUT,
                                "terminating connection due to idle-in-transaction timeout"));
                    } else if (!inTransaction && idleLimit != null && idleNanos >= idleLimit.toNanos()) {
                        session.terminate(ErrorResponse.fatal(SqlState.IDLE_SESSION_TIMEOUT,
                                "terminating connection due to idle-session timeout"));
                    }
                });
            });
        } catch (RuntimeException e) {
            LOG.error("idle session check failed", e);
        }
    }

    public LivePolicy policy() {
        return policy;
    }

    /** Slots of {@code concurrent} limits held now by every session; tests check none is left over. */
    int concurrentSlotsHeld() {
        return throttles.runningStatements();
    }

    // ------------------------------------------------------------------ hooks

    @Override
    public Optional<ErrorResponse> onSessionReady(SessionInfo session) {
        SessionState state = state(session);
        PolicySet set = policy.current().set();
        List<Runnable> releases = new ArrayList<>();
        List<dev.pgpolicy.policy.EffectiveLimit> limits = set.limits(state.principal(set, session, this::context));
        Optional<ErrorResponse> refused = throttles.tryConnect(session, limits, releases);
        if (refused.isPresent()) {
            LOG.info("session {}: refused for user={}: {}", session.id(), session.user().orElse(""), refused.get().message());
        } else {
            state.connectionReleases = releases;
            state.ready = true;
        }
        return refused;
    }

    @Override
    public void onSessionClosed(SessionInfo session) {
        listener.sessionClosed(session);
        SessionState state = session.attachments().get(stateKey);
        if (state != null) {
            state.closed = true;
            state.connectionReleases.forEach(Runnable::run);
            state.connectionReleases = List.of();
            state.runningSlots.release();
        }
    }

    /**
     * Nothing left in flight: the session no longer runs a statement, so its concurrent-limit slots
     * are free. A ReadyForQuery that answers an earlier pipelined request frees nothing: the
     * session is not idle while a later request is forwarded and unanswered, held for its decision
     * (or its audit gate) after it joined the slot, or queued behind one
     * ({@link SessionInfo#idleSinceNanos()}), so the slot is given back only with the
     * ReadyForQuery of the last request that runs under it (ConcurrentSlotPipelineTest).
     */
    @Override
    public void onReadyForQuery(SessionInfo session) {
        SessionState state = session.attachments().get(stateKey);
        if (state != null && session.idleSinceNanos() >= 0) {
            state.runningSlots.release();
            state.sqlPrepared.settle(); // every PREPARE, DEALLOCATE and DISCARD sent has been answered
        }
    }

    /**
     * An allowed statement is about to be forwarded: it takes a slot of the concurrent limits in
     * force, or is refused with 53400 when one is full. A denied statement never gets here, so it
     * never holds a slot. Checked before the statement's audit record is written, so that a
     * statement the limit refuses is recorded as throttled, never as allowed. Runs on a decision
     * worker or the event loop.
     */
    private Optional<Throttles.Refusal> admitRunning(SessionInfo session, SessionState state) {
        PolicySet set = policy.current().set();
        Optional<Throttles.Refusal> refused = throttles.tryRun(session,
                set.limits(state.principal(set, session, this::context)), state.runningSlots);
        if (refused.isPresent()) {
            LOG.info("session {}: refused user={}: {}", session.id(), session.user().orElse(""),
                    refused.get().error().message());
        } else if (state.closed) {
            state.runningSlots.release(); // the session ended while this was decided: nothing will run
        }
        return refused;
    }

    /**
     * A statement about to run counts against the queries-per-second limits; the excess is refused
     * (53400). When statements are audited, the refusal is recorded after analysing the statement
     * on a decision worker, so the record names its kind and tables like any other.
     */
    private Optional<Verdict> throttled(SessionInfo session, SessionState state, String message, String statementName,
            Optional<String> sql, Instant receivedAt, long receivedNanos) {
        LivePolicy.Loaded loaded = policy.current();
        PolicySet set = loaded.set();
        PrincipalClass principal = state.principal(set, session, this::context);
        Optional<Throttles.Refusal> refused = throttles.tryQuery(session, set.limits(principal));
        if (refused.isEmpty()) {
            return Optional.empty();
        }
        LOG.info("session {}: throttled user={}: {}", session.id(), session.user().orElse(""),
                refused.get().error().message());
        return Optional.of(limited(session, message, statementName, sql, loaded, principal, refused.get(), receivedAt,
                receivedNanos));
    }

    /** The 53400 refusal of a limit, recorded (when statements are audited) once the SQL is analysed. */
    private Verdict limited(SessionInfo session, String message, String statementName, Optional<String> sql,
            LivePolicy.Loaded loaded, PrincipalClass principal, Throttles.Refusal refusal, Instant receivedAt,
            long receivedNanos) {
        Verdict denial = Verdict.deny(refusal.error());
        if (!listener.followsCompletions() || sql.isEmpty()) {
            return denial;
        }
        return decideLater(() -> {
            recordLimited(session, message, statementName, sql.get(), analyze(session, sql.get()), loaded, principal,
                    refusal, receivedAt, receivedNanos);
            return denial;
        });
    }

    /** A throttled statement's record: at least at level statements, naming the limit rule. */
    private void recordLimited(SessionInfo session, String message, String statementName, String sql,
            QueryAnalysis analysis, LivePolicy.Loaded loaded, PrincipalClass principal, Throttles.Refusal refusal,
            Instant receivedAt, long receivedNanos) {
        listener.record(new DecisionListener.Decided(session, message, statementName, sql, analysis, null,
                DecisionListener.Outcome.THROTTLED, loaded.revision(),
                loaded.set().auditLevel(principal).atLeast(dev.pgpolicy.policy.AuditLevel.STATEMENTS),
                refusal.error().message(), receivedAt, receivedNanos, refusal.ruleId()));
    }

    private QueryAnalysis analyze(SessionInfo session, String sql) {
        return analyzer.analyze(sql, standardConformingStrings(session));
    }

    private static boolean standardConformingStrings(SessionInfo session) {
        String value = session.serverParameter("standard_conforming_strings").orElse(null);
        return value == null || !value.equalsIgnoreCase("off");
    }

    @Override
    public Verdict onQuery(SessionInfo session, Query query) {
        SessionState state = state(session);
        Instant receivedAt = clock.instant();
        long receivedNanos = System.nanoTime();
        Optional<Verdict> throttled = throttled(session, state, "Query", "", Optional.of(query.sql()), receivedAt,
                receivedNanos);
        if (throttled.isPresent()) {
            return throttled.get();
        }
        return decideNowOrLater(session, state, "Query", "", query.sql(), receivedAt, receivedNanos, ruling -> {
            int statementCount = state.lastStatementCount;
            List<SqlPreparedStatements.Command> commands = state.lastCommands;
            return gated(ruling.gate(), ruling.verdict(), () -> {
                state.searchPath.follow(query.sql(), statementCount == 1);
                followPrepared(state, commands);
            });
        });
    }

    @Override
    public Verdict onParse(SessionInfo session, Parse parse) {
        SessionState state = state(session);
        String name = parse.statementName();
        Instant receivedAt = clock.instant();
        long receivedNanos = System.nanoTime();
        // Until this Parse is decided, its name means nothing the proxy allowed.
        state.statements.remove(name);
        return decideNowOrLater(session, state, "Parse", name, parse.sql(), receivedAt, receivedNanos, ruling -> {
            state.parsedUnder(parse.sql(), state.searchPath.cacheKey(session));
            String revision = state.lastRevision;
            int statementCount = state.lastStatementCount;
            List<SqlPreparedStatements.Command> commands = state.lastCommands;
            return gated(ruling.gate(), ruling.verdict(), () -> {
                state.statements.put(name, new PreparedDecision(parse.sql(), revision));
                state.searchPath.follow(parse.sql(), statementCount == 1);
                followPrepared(state, commands);
            });
        });
    }

    @Override
    public Verdict onBind(SessionInfo session, Bind bind, Optional<String> statementSql) {
        SessionState state = state(session);
        Instant receivedAt = clock.instant();
        long receivedNanos = System.nanoTime();
        String name = bind.statementName();
        // The text behind the name: from this session's Parse, or from a PREPARE the server
        // completed (PostgreSQL shares one namespace between the two). Without it the Bind could
        // run a statement nobody decided or recorded: refused.
        PreparedText bound = preparedText(state, name, statementSql);
        if (bound.refusal() != null) {
            LOG.info("session {}: refused a Bind for user={}: {}", session.id(), session.user().orElse(""),
                    bound.refusal().message());
            return Verdict.deny(bound.refusal());
        }
        String text = bound.text();
        PreparedDecision prepared = state.statements.get(name);
        Optional<Verdict> throttled = throttled(session, state, "Bind", name, Optional.of(text), receivedAt,
                receivedNanos);
        if (throttled.isPresent()) {
            return throttled.get();
        }
        LivePolicy.Loaded loaded = policy.current();
        PolicySet set = loaded.set();
        if (prepared != null && prepared.sql().equals(text) && prepared.revision().equals(set.revision())
                && !set.timeDependent()) {
            // Decided at its Parse (or at an earlier Bind of a SQL-prepared statement), under the
            // policy still in force.
            Optional<Throttles.Refusal> full = admitRunning(session, state);
            if (full.isPresent()) {
                return limited(session, "Bind", name, Optional.of(text), loaded,
                        state.principal(set, session, this::context), full.get(), receivedAt, receivedNanos);
            }
            return gated(listener.bound(session, bind, receivedAt, receivedNanos), Verdict.FORWARD, () -> { });
        }
        // Otherwise decide: a statement SQL-prepared and not bound since, the set changed, or its
        // rules read the clock (a statement allowed during office hours must not stay allowed after them).
        return decideNowOrLater(session, state, "Bind", name, text, receivedAt, receivedNanos, ruling -> {
            if (ruling.verdict().action() == Verdict.Action.DENY) {
                state.statements.remove(name);
                return ruling.verdict();
            }
            String revision = state.lastRevision;
            CompletionStage<Void> gate = ruling.gate()
                    .thenCompose(ignored -> listener.bound(session, bind, receivedAt, receivedNanos));
            return gated(gate, ruling.verdict(),
                    () -> state.statements.put(name, new PreparedDecision(text, revision)));
        });
    }

    /** The text a prepared statement name stands for, or the refusal of a name the proxy cannot vouch for. */
    private record PreparedText(String text, ErrorResponse refusal) {
    }

    /**
     * What the server holds under {@code name}: {@code parsedSql} from this session's Parse, or
     * the text of a SQL PREPARE the server completed. A name neither gave, a name a PREPARE,
     * DEALLOCATE or DISCARD still in flight may change, and a name both gave different texts
     * (the proxy cannot tell which one the server kept) are refused with 26000.
     */
    private static PreparedText preparedText(SessionState state, String name, Optional<String> parsedSql) {
        SqlPreparedStatements.Lookup lookup = state.sqlPrepared.lookup(name);
        switch (lookup.status()) {
            case UNSETTLED:
                return new PreparedText(null, statementNameRefusal(name, "a PREPARE, DEALLOCATE or DISCARD sent"
                        + " before it may change the statement and has not completed yet",
                        "wait for the server's answer to it before using the statement"));
            case KNOWN:
                if (parsedSql.isPresent() && !parsedSql.get().equals(lookup.text())) {
                    return new PreparedText(null, statementNameRefusal(name, "this session defined it both with a"
                            + " Parse and with PREPARE, with different texts",
                            "the proxy cannot tell which one the server holds; DEALLOCATE it and prepare it again"));
                }
                return new PreparedText(lookup.text(), null);
            case UNKNOWN:
                if (parsedSql.isPresent()) {
                    return new PreparedText(parsedSql.get(), null);
                }
                return new PreparedText(null, statementNameRefusal(name, "it was not prepared through the proxy"
                        + " in this session", "prepare it with a Parse or with a PREPARE whose result the server"
                        + " returned before binding or executing it: its text is what the policy decides and the"
                        + " audit log records"));
        }
        throw new AssertionError(lookup.status());
    }

    private static ErrorResponse statementNameRefusal(String name, String why, String hint) {
        return ErrorResponse.of(ErrorResponse.SEVERITY_ERROR, SqlState.INVALID_SQL_STATEMENT_NAME,
                "pgpolicy: prepared statement \"" + name + "\" cannot be used: " + why, hint);
    }

    /**
     * A request with these commands was allowed and is on its way upstream: from now on server
     * completions are followed (the first PREPARE, DEALLOCATE or DISCARD ALL of any session turns
     * this on; until then a relay without audit decodes no CommandComplete), and the names the
     * request may change are unsettled until the session is idle again.
     */
    private void followPrepared(SessionState state, List<SqlPreparedStatements.Command> commands) {
        boolean changes = false;
        for (SqlPreparedStatements.Command command : commands) {
            changes |= !(command instanceof SqlPreparedStatements.Execute);
        }
        if (changes) {
            state.sqlPrepared.forwarded(commands);
        }
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

    /**
     * Decides {@code sql} on the calling thread (the session's event loop) when nothing the
     * decision needs can block ({@link #tryDecideNow}), otherwise on a decision worker; either way
     * {@code apply} turns the ruling into the message's verdict on the thread that decided it.
     * The session calls the hooks of a message only once every earlier message was decided, so
     * deciding now cannot overtake a pending decision of the same session.
     */
    private Verdict decideNowOrLater(SessionInfo session, SessionState state, String message, String statementName,
            String sql, Instant receivedAt, long receivedNanos, Function<Ruling, Verdict> apply) {
        try {
            Optional<Ruling> now = tryDecideNow(session, state, message, statementName, sql, receivedAt, receivedNanos);
            if (now.isPresent()) {
                return apply.apply(now.get());
            }
        } catch (RuntimeException e) {
            // As a decision that failed on a worker: the statement is refused, the session goes on.
            return Verdict.pending(CompletableFuture.failedFuture(e));
        }
        return decideLater(() -> apply.apply(decide(session, state, message, statementName, sql, receivedAt,
                receivedNanos)));
    }

    /**
     * The ruling on {@code sql} when it can be reached without blocking: its analysis needs no
     * parser ({@link SqlAnalyzer#analyzeIfCheap}: facts cached, or read from tokens), the catalog
     * is not due to be forgotten (a reload or the session's DDL), its names resolve from the
     * catalog cache ({@link LiveNames#resolveIfCached}), the tables a masked principal reads were
     * prefetched, and no COPY of such a principal needs its output described. Empty, with nothing
     * changed, otherwise: the statement then goes to a decision worker exactly as before. The
     * ruling is the one {@link #decide} gives, from the same inputs and the same code.
     */
    private Optional<Ruling> tryDecideNow(SessionInfo session, SessionState state, String message,
            String statementName, String sql, Instant receivedAt, long receivedNanos) {
        LivePolicy.Loaded loaded = policy.current();
        PolicySet set = loaded.set();
        if (catalog != null && (state.ranDdl || !set.revision().equals(lastRevision))) {
            return Optional.empty();
        }
        Optional<QueryAnalysis> analysis = analyzer.analyzeIfCheap(sql, standardConformingStrings(session));
        if (analysis.isEmpty()) {
            return Optional.empty();
        }
        if (hasExecute(preparedCommands(session, analysis.get(), sql))) {
            return Optional.empty(); // the prepared text it runs is analysed and decided too, which may block
        }
        Optional<LiveNames.Resolution> names = liveNames.resolveIfCached(session, state.searchPath, analysis.get());
        if (names.isEmpty()) {
            return Optional.empty();
        }
        if (catalog != null && !set.masks(state.principal(set, session, this::context)).isEmpty()
                && (hasCopy(analysis.get()) || !catalog.prefetched(session.database().orElse(""),
                        tableNames(analysis.get())))) {
            return Optional.empty();
        }
        decidedNow.incrementAndGet();
        return Optional.of(rule(session, state, message, statementName, sql, receivedAt, receivedNanos, loaded,
                analysis.get(), names.get(), false));
    }

    // The loops over statements, tables and findings below run for every statement and are
    // indexed: the lists are of several immutable classes, and their iterators were allocated for
    // each loop (escape analysis gave up on them), as the allocation profile showed.

    private static boolean hasCopy(QueryAnalysis analysis) {
        List<StatementFacts> statements = analysis.statements();
        for (int i = 0; i < statements.size(); i++) {
            if (statements.get(i).kind() == StatementKind.COPY) {
                return true;
            }
        }
        return false;
    }

    /** The relation names of the statement's tables, as {@link CatalogCache#prefetch} takes them. */
    private static List<String> tableNames(QueryAnalysis analysis) {
        List<StatementFacts> statements = analysis.statements();
        List<String> names = new ArrayList<>(4);
        for (int i = 0; i < statements.size(); i++) {
            List<TableAccess> tables = statements.get(i).tables();
            for (int j = 0; j < tables.size(); j++) {
                String name = tables.get(j).table().name();
                if (!names.contains(name)) {
                    names.add(name);
                }
            }
        }
        return names;
    }

    /** Statements decided on the session's event loop, without a decision worker; for metrics and tests. */
    public long decidedOnEventLoop() {
        return decidedNow.get();
    }

    /** Statements handed to a decision worker; for metrics and tests. */
    public long decidedByWorkers() {
        return decidedLater.get();
    }

    private Verdict decideLater(Supplier<Verdict> decision) {
        try {
            // A decision may itself wait for the audit log (gated): the session sees one decision.
            CompletableFuture<Verdict> decided = CompletableFuture.supplyAsync(decision, workers);
            decidedLater.incrementAndGet();
            return Verdict.pending(decided.thenCompose(verdict ->
                    verdict.action() == Verdict.Action.PENDING ? verdict.decision()
                            : CompletableFuture.completedFuture(verdict)));
        } catch (RejectedExecutionException e) {
            // Overloaded: refuse this statement rather than queue without bound; the session goes on.
            return Verdict.deny(ErrorResponse.of(ErrorResponse.SEVERITY_ERROR, SqlState.INSUFFICIENT_RESOURCES,
                    "pgpolicy: too many statements waiting for a policy decision; try again"));
        }
    }

    /** A verdict and what must complete before it applies (the statement's audit record, with fail_closed). */
    private record Ruling(Verdict verdict, CompletionStage<Void> gate) {
    }

    /**
     * {@code verdict} once {@code gate} completes; a failed gate refuses the statement with 58030.
     * {@code goAhead} records what forwarding the statement changes, only when it is forwarded.
     */
    private static Verdict gated(CompletionStage<Void> gate, Verdict verdict, Runnable goAhead) {
        if (verdict.action() == Verdict.Action.DENY) {
            return verdict;
        }
        CompletableFuture<Void> future = gate.toCompletableFuture();
        if (future.isDone() && !future.isCompletedExceptionally()) {
            goAhead.run();
            return verdict;
        }
        return Verdict.pending(future.handle((ignored, failure) -> {
            if (failure != null) {
                return Verdict.deny(auditRefusal(failure));
            }
            goAhead.run();
            return verdict;
        }));
    }

    /**
     * 58030 (io_error, class 58 "system error": a failure outside the database): the remedy is
     * the operator's (disk, permissions), not a retry with less load, which class 53 would suggest.
     */
    static ErrorResponse auditRefusal(Throwable failure) {
        Throwable cause = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
                ? failure.getCause() : failure;
        return ErrorResponse.of(ErrorResponse.SEVERITY_ERROR, SqlState.IO_ERROR,
                "pgpolicy: the audit log cannot be written and audit.fail_closed is set: the statement was not run",
                cause.getMessage());
    }

    /** Analyses and evaluates one message's SQL; runs on a decision worker, since it may block. */
    private Ruling decide(SessionInfo session, SessionState state, String message, String statementName, String sql,
            Instant receivedAt, long receivedNanos) {
        LivePolicy.Loaded loaded = policy.current();
        PolicySet set = loaded.set();
        QueryAnalysis analysis = analyze(session, sql);
        if (catalog != null) {
            if (!set.revision().equals(lastRevision)) {
                lastRevision = set.revision(); // a reload may bring masks on tables not cached yet: start afresh
                catalog.invalidateAll();
            }
            if (state.ranDdl) {
                // The session's DDL has run by now (its next message arrives after it): forget the old shapes.
                state.ranDdl = false;
                catalog.invalidate(session.database().orElse(""));
            }
        }

        LiveNames.Resolution names = liveNames.resolve(session, state.searchPath, analysis);
        return rule(session, state, message, statementName, sql, receivedAt, receivedNanos, loaded, analysis, names,
                true);
    }

    /**
     * Evaluates the policy on an analysed statement whose names are resolved, and records the
     * decision. Blocks only when {@code mayBlock}: otherwise the caller made sure that the catalog
     * work below is not needed (see {@link #tryDecideNow}).
     */
    private Ruling rule(SessionInfo session, SessionState state, String message, String statementName, String sql,
            Instant receivedAt, long receivedNanos, LivePolicy.Loaded loaded, QueryAnalysis analysis,
            LiveNames.Resolution names, boolean mayBlock) {
        PolicySet set = loaded.set();
        state.lastStatementCount = analysis.statements().size();
        state.lastRevision = set.revision();
        PrincipalClass principal = state.principal(set, session, this::context);
        NameResolver resolver = names.resolver();
        Decision decision = state.repeatedDecision(principal, names.cacheKey(), analysis);
        if (decision == null) {
            decision = evaluate(set, principal, analysis, names);
            state.decided(principal, names.cacheKey(), analysis, decision);
        }
        logFindings(session, decision, analysis);
        List<SqlPreparedStatements.Command> commands = preparedCommands(session, analysis, sql);
        state.lastCommands = commands;
        if (decision.allowed() && hasExecute(commands)) {
            Optional<Ruling> refused = refuseExecution(session, state, message, statementName, sql, receivedAt,
                    receivedNanos, loaded, analysis, decision, principal, commands);
            if (refused.isPresent()) {
                return refused.get();
            }
        }
        MaskSet masks = set.masks(principal);
        NamedMasks named = namesMaskedColumns(set, principal, names, analysis, decision, masks);
        if (!mayBlock && message.equals("Query")) {
            state.rememberQueryOnEventLoop(sql, named); // not mayBlock: called on the event loop
        } else {
            state.rememberNamedMasks(sql, named);
        }
        // Only an allowed statement needs its COPY output planned (a denied one is refused below,
        // with its own rule), and a text without COPY never has a plan to make or replace.
        if (decision.allowed() && !masks.isEmpty() && hasCopy(analysis)) {
            try {
                state.plannedCopies(sql, copyOut.plan(session, sql, standardConformingStrings(session), analysis, masks, resolver,
                        state.searchPath.setting(session), named::names));
            } catch (CopyOutPlanner.Refusal refusal) {
                LOG.info("session {}: denied {} for user={}: {} [fingerprint {}]", session.id(), message,
                        session.user().orElse(""), refusal.getMessage(), fingerprints(analysis));
                listener.record(new DecisionListener.Decided(session, message, statementName, sql, analysis, decision,
                        DecisionListener.Outcome.DENIED, loaded.revision(),
                        decision.auditLevel().atLeast(dev.pgpolicy.policy.AuditLevel.STATEMENTS),
                        refusal.error().message(), receivedAt, receivedNanos));
                return new Ruling(Verdict.deny(refusal.error()), DecisionListener.GO_AHEAD);
            }
        }
        if (decision.allowed()) {
            afterAllowed(session, state, principal, set, analysis, mayBlock);
            for (StatementFacts facts : analysis.statements()) {
                if (facts.kind() == StatementKind.DECLARE_CURSOR) {
                    state.cursorRows.declared(facts.normalized());
                }
            }
        }
        if (!decision.allowed()) {
            LOG.info("session {}: denied {} for user={} by {}: {} [fingerprint {}]", session.id(), message,
                    session.user().orElse(""), decision.ruleIds().isEmpty() ? "default deny" : decision.ruleIds(),
                    decision.reason(), fingerprints(analysis));
            listener.record(new DecisionListener.Decided(session, message, statementName, sql, analysis, decision,
                    DecisionListener.Outcome.DENIED, loaded.revision(), decision.auditLevel(), null, receivedAt,
                    receivedNanos));
            return new Ruling(Verdict.deny(denial(decision)), DecisionListener.GO_AHEAD);
        }
        if (!message.equals("Parse")) {
            // A Query or Bind runs once forwarded: it takes its concurrent-limit slot before its
            // record is written, so that a statement the limit refuses is not recorded as allowed.
            Optional<Throttles.Refusal> full = admitRunning(session, state);
            if (full.isPresent()) {
                recordLimited(session, message, statementName, sql, analysis, loaded, principal, full.get(), receivedAt,
                        receivedNanos);
                return new Ruling(Verdict.deny(full.get().error()), DecisionListener.GO_AHEAD);
            }
        }
        if (decision.wouldDeny()) {
            LOG.warn("session {}: detect mode: would deny {} for user={} by {} [fingerprint {}]", session.id(), message,
                    session.user().orElse(""), decision.detectRuleIds(), fingerprints(analysis));
            return new Ruling(Verdict.FORWARD, listener.record(new DecisionListener.Decided(session, message,
                    statementName, sql, analysis, decision, DecisionListener.Outcome.WOULD_DENY, loaded.revision(),
                    decision.auditLevel(), null, receivedAt, receivedNanos)));
        }
        if (!decision.detectRuleIds().isEmpty()) {
            LOG.info("session {}: detect mode: would mask for user={} by {} [fingerprint {}]", session.id(),
                    session.user().orElse(""), decision.detectRuleIds(), fingerprints(analysis));
        }
        return new Ruling(Verdict.FORWARD, listener.record(new DecisionListener.Decided(session, message,
                statementName, sql, analysis, decision, DecisionListener.Outcome.ALLOWED, loaded.revision(),
                decision.auditLevel(), null, receivedAt, receivedNanos)));
    }

    private static void logFindings(SessionInfo session, Decision decision, QueryAnalysis analysis) {
        List<GuardFinding> findings = decision.findings();
        for (int i = 0; i < findings.size(); i++) {
            GuardFinding finding = findings.get(i);
            if (finding.action() == GuardAction.WARN || (finding.action() == GuardAction.DENY && finding.detect())) {
                LOG.warn("session {}: guard {} for user={}: {} [fingerprint {}]", session.id(),
                        finding.action() == GuardAction.WARN ? "warning" : "would deny (detect mode)",
                        session.user().orElse(""), finding.heuristic().keyword(), fingerprints(analysis));
            }
        }
    }

    private Decision evaluate(PolicySet set, PrincipalClass principal, QueryAnalysis analysis,
            LiveNames.Resolution names) {
        NameResolver resolver = names.resolver();
        if (principal.timeDependent()) {
            return set.evaluate(principal, analysis, resolver);
        }
        DecisionKey key = DecisionKey.of(principal, names.cacheKey(), analysis);
        // Looked up before computing: the mapping function below captures four values, an
        // allocation that a hit, nearly every statement, does not need.
        Decision cached = decisions.getIfPresent(key);
        return cached != null ? cached : decisions.get(key, k -> set.evaluate(principal, analysis, resolver));
    }

    /**
     * The PREPARE, DEALLOCATE, DISCARD ALL and EXECUTE commands of {@code sql}, read again from its
     * tokens only when the analysis found a statement kind that can hold one.
     */
    private static List<SqlPreparedStatements.Command> preparedCommands(SessionInfo session, QueryAnalysis analysis,
            String sql) {
        List<StatementFacts> statements = analysis.statements();
        for (int i = 0; i < statements.size(); i++) {
            switch (statements.get(i).kind()) {
                case PREPARE, EXECUTE, DEALLOCATE, DISCARD, EXPLAIN, DDL, UNKNOWN -> {
                    return SqlPreparedStatements.commands(sql, standardConformingStrings(session));
                }
                default -> { }
            }
        }
        return List.of();
    }

    private static boolean hasExecute(List<SqlPreparedStatements.Command> commands) {
        for (SqlPreparedStatements.Command command : commands) {
            if (command instanceof SqlPreparedStatements.Execute
                    || command instanceof SqlPreparedStatements.Unreadable unreadable
                    && unreadable.keyword().equals("EXECUTE")) {
                return true;
            }
        }
        return false;
    }

    /**
     * An EXECUTE runs a statement prepared earlier, which the policy decided when it was
     * prepared; the rules in force now decide its text again (a reload, or rules that read the
     * clock, may deny it since). A name the proxy knows no text for is refused, as a Bind of it
     * is. A statement prepared earlier in the same message was decided with it. Runs on a
     * decision worker ({@link #tryDecideNow} leaves EXECUTE to one): analysing the text may block.
     */
    private Optional<Ruling> refuseExecution(SessionInfo session, SessionState state, String message,
            String statementName, String sql, Instant receivedAt, long receivedNanos, LivePolicy.Loaded loaded,
            QueryAnalysis analysis, Decision decision, PrincipalClass principal,
            List<SqlPreparedStatements.Command> commands) {
        PolicySet set = loaded.set();
        Map<String, String> preparedHere = new java.util.HashMap<>();
        Set<String> droppedHere = new HashSet<>();
        boolean allDroppedHere = false;
        for (SqlPreparedStatements.Command command : commands) {
            ErrorResponse refusal = null;
            Decision denied = null;
            if (command instanceof SqlPreparedStatements.Prepare prepare) {
                preparedHere.put(prepare.name(), prepare.text());
                droppedHere.remove(prepare.name());
            } else if (command instanceof SqlPreparedStatements.Deallocate deallocate) {
                preparedHere.remove(deallocate.name());
                droppedHere.add(deallocate.name());
            } else if (command instanceof SqlPreparedStatements.Unreadable unreadable
                    && unreadable.keyword().equals("EXECUTE")) {
                refusal = ErrorResponse.of(ErrorResponse.SEVERITY_ERROR, SqlState.INVALID_SQL_STATEMENT_NAME,
                        "pgpolicy: the prepared statement this EXECUTE runs cannot be told from its text",
                        "name the statement with an identifier");
            } else if (command instanceof SqlPreparedStatements.Execute execute) {
                String name = execute.name();
                if (preparedHere.containsKey(name)) {
                    continue;
                }
                PreparedText text;
                if (allDroppedHere || droppedHere.contains(name)) {
                    text = new PreparedText(null, statementNameRefusal(name, "an earlier statement of the same"
                            + " message deallocates it", "prepare it again before executing it"));
                } else {
                    PreparedDecision parsed = state.statements.get(name);
                    text = preparedText(state, name, parsed == null ? Optional.empty() : Optional.of(parsed.sql()));
                }
                if (text.refusal() != null) {
                    refusal = text.refusal();
                } else {
                    QueryAnalysis executed = analyze(session, text.text());
                    Decision now = evaluate(set, principal, executed,
                            liveNames.resolve(session, state.searchPath, executed));
                    if (!now.allowed()) {
                        denied = now;
                        refusal = denial(now);
                    }
                }
            } else {
                // DEALLOCATE ALL, DISCARD ALL, or a PREPARE or DEALLOCATE naming what cannot be read.
                preparedHere.clear();
                allDroppedHere = true;
            }
            if (refusal != null) {
                LOG.info("session {}: denied {} for user={}: {} [fingerprint {}]", session.id(), message,
                        session.user().orElse(""), refusal.message(), fingerprints(analysis));
                Decision recorded = denied != null ? denied : decision;
                listener.record(new DecisionListener.Decided(session, message, statementName, sql, analysis, recorded,
                        DecisionListener.Outcome.DENIED, loaded.revision(),
                        recorded.auditLevel().atLeast(dev.pgpolicy.policy.AuditLevel.STATEMENTS),
                        denied != null ? null : refusal.message(), receivedAt, receivedNanos));
                return Optional.of(new Ruling(Verdict.deny(refusal), DecisionListener.GO_AHEAD));
            }
        }
        return Optional.empty();
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
     * The session as policies see it. Passthrough: the server authenticated the user, who is also
     * the upstream role, and there are no groups. {@code auth.mode: proxy}: the proxy user, the
     * groups of the users file, the mapped service account's role, and how the client proved
     * itself ({@code scram}, {@code cert}, {@code cert+scram}), as {@link SessionInfo} exposes them.
     */
    SessionContext context(SessionInfo session) {
        InetSocketAddress address = session.clientAddress();
        InetAddress ip = address == null ? null : address.getAddress();
        String user = session.user().orElse("");
        String auth = session.authMethod().filter(PROXY_AUTH_METHODS::contains).orElse("passthrough");
        return new SessionContext(user, Set.copyOf(session.groups()), session.dbUser().orElse(user),
                session.database().orElse(""), session.applicationName().orElse(""), ip, auth, session.tls(),
                session.certCn().orElse(null), clock.instant(), null);
    }

    /** Whether {@code context} is what {@link #context} would build for {@code session} now, the clock aside. */
    static boolean describes(SessionContext context, SessionInfo session) {
        String user = session.user().orElse("");
        List<String> groups = session.groups();
        InetSocketAddress address = session.clientAddress();
        return context.user().equals(user)
                && context.groups().size() == groups.size() && context.groups().containsAll(groups)
                && context.dbUser().equals(session.dbUser().orElse(user))
                && context.database().equals(session.database().orElse(""))
                && context.applicationName().equals(session.applicationName().orElse(""))
                && Objects.equals(context.clientIp(), address == null ? null : address.getAddress())
                && context.auth().equals(session.authMethod().filter(PROXY_AUTH_METHODS::contains).orElse("passthrough"))
                && context.tls() == session.tls()
                && Objects.equals(context.certCn(), session.certCn().orElse(null));
    }

    /** The methods of {@code auth.mode: proxy}; passthrough sessions report the server's method instead. */
    private static final Set<String> PROXY_AUTH_METHODS = Set.of("scram", "cert", "cert+scram");


    // ------------------------------------------------------------------ masking

    /** FETCH and EXECUTE return rows of a query decided earlier, whose shape this message does not show. */
    /**
     * Which statements of the text name a masked column, so that the computed columns of their
     * results are NULL (a set operation could carry the masked value in one) and those of the
     * other statements of a multi-statement Query keep their values. A statement that reads rows
     * decided elsewhere (FETCH of a cursor, EXECUTE of a prepared statement) counts as naming one.
     * Each statement of a multi-statement text is evaluated on its own, through the decision cache.
     */
    private NamedMasks namesMaskedColumns(PolicySet set, PrincipalClass principal, LiveNames.Resolution names,
            QueryAnalysis analysis, Decision decision, MaskSet masks) {
        List<StatementFacts> statements = analysis.statements();
        boolean any = !decision.masks().isEmpty() || (!masks.isEmpty() && readsElsewhere(statements));
        if (!any || statements.size() <= 1) {
            return NamedMasks.all(any);
        }
        boolean[] named = new boolean[statements.size()];
        boolean found = false;
        for (int i = 0; i < named.length; i++) {
            StatementFacts facts = statements.get(i);
            Decision alone = evaluate(set, principal, new QueryAnalysis(List.of(facts), analysis.findings()), names);
            // A statement the policy would not allow on its own is not understood here: fail closed.
            named[i] = readsElsewhere(List.of(facts)) || !alone.masks().isEmpty() || !alone.allowed();
            found |= named[i];
        }
        // The whole text names a masked column, so some statement must: if none does on its own,
        // the split is not understood and every result is treated as naming one.
        return found ? new NamedMasks(named, true) : NamedMasks.all(true);
    }

    private static boolean readsElsewhere(List<StatementFacts> statements) {
        for (StatementFacts facts : statements) {
            if (facts.kind() == StatementKind.FETCH || facts.kind() == StatementKind.EXECUTE) {
                return true;
            }
        }
        return false;
    }

    /**
     * Per statement of a text, in order, whether it names a masked column.
     *
     * @param byStatement one flag per statement, or empty when all statements are alike
     * @param otherwise the flag of every statement when {@code byStatement} is empty, and of a
     *     statement beyond its end (a result the analysis did not foresee: fail closed)
     */
    record NamedMasks(boolean[] byStatement, boolean otherwise) {
        private static final NamedMasks NONE = new NamedMasks(new boolean[0], false);
        private static final NamedMasks ALL = new NamedMasks(new boolean[0], true);

        static NamedMasks all(boolean named) {
            return named ? ALL : NONE;
        }

        boolean names(int statement) {
            return statement >= 0 && statement < byStatement.length ? byStatement[statement] : otherwise;
        }
    }

    /**
     * Catalog work for an allowed statement: note DDL, and on a decision worker ({@code mayBlock})
     * prefetch its tables. On the event loop they were prefetched already; should the cache have
     * dropped them since, the RowDescription's columns are still looked up by OID.
     */
    private void afterAllowed(SessionInfo session, SessionState state, PrincipalClass principal, PolicySet set,
            QueryAnalysis analysis, boolean mayBlock) {
        if (catalog == null) {
            return;
        }
        List<String> names = new ArrayList<>();
        for (StatementFacts facts : analysis.statements()) {
            if (facts.kind() == StatementKind.DDL || facts.kind() == StatementKind.DCL) {
                // DCL too: a GRANT or REVOKE of USAGE on a schema changes how names resolve.
                state.ranDdl = true;
            }
            for (TableAccess table : facts.tables()) {
                names.add(table.table().name());
            }
        }
        if (!mayBlock || names.isEmpty() || set.masks(principal).isEmpty()) {
            return;
        }
        try {
            catalog.prefetch(session.database().orElse(""), new HashSet<>(names));
        } catch (SQLException e) {
            LOG.warn("session {}: catalog prefetch failed: {}", session.id(), e.getMessage());
        }
    }

    @Override
    public boolean inspectsResults() {
        return true;
    }

    @Override
    public boolean followsCompletions() {
        // Always: the completions of a multi-statement Query tell which statement a result
        // answers, and so whether its computed columns are masked; those of PREPARE, DEALLOCATE
        // and DISCARD tell which SQL-prepared statements exist.
        return true;
    }

    @Override
    public void onForwarded(SessionInfo session, InFlightRequest request) {
        if (listener.followsCompletions()) {
            listener.forwarded(session, request);
        }
    }

    @Override
    public void onReply(SessionInfo session, InFlightRequest request, dev.pgpolicy.proxy.session.ServerReply reply) {
        if (listener.followsCompletions()) {
            listener.replied(session, request, reply);
        }
        if (reply.kind() == dev.pgpolicy.proxy.session.ServerReply.Kind.READY
                && request.kind() == InFlightRequest.Kind.SIMPLE_QUERY) {
            SessionState state = session.attachments().get(stateKey);
            if (state != null) {
                state.queryAnswered(request.sql().orElse(null));
            }
        }
        if (reply.kind() != dev.pgpolicy.proxy.session.ServerReply.Kind.COMMAND_COMPLETE) {
            return;
        }
        SessionState state = session.attachments().get(stateKey);
        if (state == null) {
            return;
        }
        if (request.kind() == InFlightRequest.Kind.SIMPLE_QUERY) {
            state.statementCompleted(request);
        }
        if (SqlPreparedStatements.changesStatements(reply.commandTag().orElse(""))) {
            state.sqlPrepared.completed(request, reply.commandTag().get(), standardConformingStrings(session),
                    state.statements);
        }
    }

    @Override
    public RowFilter onRowDescription(SessionInfo session, InFlightRequest request, RowDescription description) {
        SessionState state = state(session);
        switch (request.kind()) {
            case SIMPLE_QUERY: {
                MaskSet masks = currentMasks(session, state);
                RowFilter masking = RowFilter.UNCHANGED;
                if (!masks.isEmpty()) {
                    String sql = request.sql().orElse(null);
                    MaskPlan plan = plan(session, masks, description,
                            sql == null || state.namesMaskedColumn(sql, state.statementAnswered(request)));
                    reportMasks(session, request, plan);
                    masking = plan.filter();
                }
                return RowLimitFilter.limit(masking, rowLimit(session, state), state.cursorRows.counterOf(request.sql().orElse(null)));
            }
            case DESCRIBE_STATEMENT:
            case DESCRIBE_PORTAL:
                request.sql().ifPresent(sql -> state.described(sql, description));
                return RowFilter.UNCHANGED;
            default:
                return RowFilter.UNCHANGED;
        }
    }

    @Override
    public RowFilter onExecute(SessionInfo session, InFlightRequest request) {
        SessionState state = state(session);
        return RowLimitFilter.limit(maskingOfExecute(session, state, request), rowLimit(session, state),
                state.cursorRows.counterOf(request.sql().orElse(null)));
    }

    /**
     * COPY TO STDOUT: every CopyData message counts as a row (PostgreSQL sends one per row; the
     * header line of {@code HEADER} and the trailer of binary COPY are messages of their own and
     * count too).
     */
    @Override
    public RowFilter onCopyOutRows(SessionInfo session, InFlightRequest request) {
        return RowLimitFilter.limit(RowFilter.UNCHANGED, rowLimit(session, state(session)), Optional.empty());
    }

    /** The {@code rows N per query} limit in force for the session (the smallest, when several rules set one). */
    private Optional<dev.pgpolicy.policy.EffectiveLimit> rowLimit(SessionInfo session, SessionState state) {
        PolicySet set = policy.current().set();
        // A loop, not a stream: this runs for every result.
        dev.pgpolicy.policy.EffectiveLimit smallest = null;
        for (dev.pgpolicy.policy.EffectiveLimit limit : set.limits(state.principal(set, session, this::context))) {
            if (limit.kind() == dev.pgpolicy.lang.LimitKind.ROWS_PER_QUERY
                    && (smallest == null || limit.amount() < smallest.amount())) {
                smallest = limit;
            }
        }
        return Optional.ofNullable(smallest);
    }

    private RowFilter maskingOfExecute(SessionInfo session, SessionState state, InFlightRequest request) {
        MaskSet masks = currentMasks(session, state);
        if (masks.isEmpty()) {
            return RowFilter.UNCHANGED;
        }
        String sql = request.sql().orElse(null);
        List<RowDescription> candidates = sql == null ? List.of() : state.descriptions(sql);
        if (candidates.isEmpty()) {
            // Rows of a statement never described: the proxy cannot tell which columns they are.
            LOG.warn("session {}: rows of a statement that was never described; every value is NULL for this"
                    + " masked principal", session.id());
            return MaskPlan.nullifyAll(hashKey).filter();
        }
        MaskPlan merged = null;
        for (RowDescription description : candidates) {
            // A Parsed text holds one statement.
            MaskPlan plan = plan(session, masks, description, state.namesMaskedColumn(sql, 0));
            merged = merged == null ? plan : merge(merged, plan);
        }
        reportMasks(session, request, merged);
        return merged.filter();
    }

    /** The audit record of the statement names the columns its result has masked. */
    private void reportMasks(SessionInfo session, InFlightRequest request, MaskPlan plan) {
        List<String> columns = plan.maskedColumns();
        if (!columns.isEmpty()) {
            listener.masked(session, request, columns);
        }
    }

    /**
     * A COPY ... TO STDOUT is about to send rows: the plan made when its statement was decided
     * masks them ({@link CopyOutPlanner}); a COPY that was never planned ends the session.
     */
    @Override
    public CopyFilter onCopyOut(SessionInfo session, InFlightRequest request, CopyOutResponse response) {
        SessionState state = state(session);
        int ordinal = state.copyOrdinal(request);
        if (currentMasks(session, state).isEmpty()) {
            return CopyFilter.UNCHANGED;
        }
        List<CopyOutPlanner.CopyOutPlan> plans = request.sql().map(state::plannedCopies).orElse(List.of());
        return CopyOutPlanner.filter(session, plans, ordinal, response);
    }

    /** Two possible layouts of one result: a column is kept only when both keep it, masked alike when both mask it alike. */
    private MaskPlan merge(MaskPlan a, MaskPlan b) {
        if (a.actions().size() != b.actions().size() || a.actions().isEmpty() && b.actions().isEmpty()) {
            return MaskPlan.nullifyAll(hashKey);
        }
        List<MaskPlan.ColumnAction> actions = new ArrayList<>();
        for (int i = 0; i < a.actions().size(); i++) {
            MaskPlan.ColumnAction x = a.actions().get(i);
            MaskPlan.ColumnAction y = b.actions().get(i);
            actions.add(x.equals(y) ? x : new MaskPlan.Nullify("ambiguous result layout"));
        }
        return MaskPlan.of(actions, hashKey, a.valueCharset());
    }

    private MaskSet currentMasks(SessionInfo session, SessionState state) {
        PolicySet set = policy.current().set();
        return set.masks(state.principal(set, session, this::context));
    }

    /**
     * The actions for one result. A column from a table is looked up in the catalog cache (the
     * decision prefetched the statement's tables); a miss asks the server on this thread, which
     * only happens for tables the analysis did not name. A computed column (table OID 0) passes,
     * because the engine already denied masked columns inside expressions, unless the statement
     * names a masked column, whose value could then reach the client through a set operation.
     */
    private MaskPlan plan(SessionInfo session, MaskSet masks, RowDescription description, boolean namesMasked) {
        String database = session.database().orElse("");
        String clientEncoding = session.serverParameter("client_encoding").orElse("UTF8");
        RowPlanCache.Key key = RowPlanCache.key(description, masks, namesMasked, database, clientEncoding,
                catalog == null ? 0 : catalog.generation());
        MaskPlan cached = rowPlans.get(key);
        if (cached != null) {
            return cached;
        }
        boolean[] lookupFailed = new boolean[1];
        MaskPlan plan = buildPlan(session, masks, description, namesMasked, database, clientEncoding, lookupFailed);
        if (!lookupFailed[0]) {
            rowPlans.put(key, plan);
        }
        return plan;
    }

    /** {@link #plan} without the cache; sets {@code lookupFailed[0]} when the catalog could not be asked. */
    private MaskPlan buildPlan(SessionInfo session, MaskSet masks, RowDescription description, boolean namesMasked,
            String database, String clientEncoding, boolean[] lookupFailed) {
        List<MaskPlan.ColumnAction> actions = new ArrayList<>(description.fields().size());
        for (RowDescription.Field field : description.fields()) {
            if (field.tableOid() == 0) {
                actions.add(namesMasked ? new MaskPlan.Nullify("computed from a masked column") : MaskPlan.KEEP);
                continue;
            }
            if (field.attributeNumber() <= 0) {
                actions.add(MaskPlan.KEEP); // system columns (ctid, xmin, ...) hold no user data
                continue;
            }
            Optional<CatalogCache.Column> column;
            try {
                column = catalog == null ? null : catalog.column(database, field.tableOid(), field.attributeNumber());
            } catch (SQLException e) {
                LOG.warn("session {}: catalog lookup of table OID {} failed ({}); the column is NULL", session.id(),
                        field.tableOid(), e.getMessage());
                column = null;
                lookupFailed[0] = true;
            }
            if (column == null) {
                actions.add(new MaskPlan.Nullify("catalog unavailable"));
                continue;
            }
            if (column.isEmpty()) {
                actions.add(MaskPlan.KEEP); // not a user column of a relation the catalog knows
                continue;
            }
            CatalogCache.Column origin = column.get();
            Optional<MaskSpec> mask = masks.maskFor(origin.schema(), origin.table(), origin.column());
            if (mask.isEmpty()) {
                actions.add(MaskPlan.KEEP);
            } else if (MaskPlan.TEXT_LIKE_TYPES.contains(field.typeOid()) && mask.get().function() != MaskFunction.NULL) {
                actions.add(new MaskPlan.Mask(mask.get(), origin.schema() + "." + origin.table() + "." + origin.column()));
            } else {
                actions.add(new MaskPlan.Nullify("mask " + mask.get() + " has no value of type " + field.typeOid()));
            }
        }
        // The server sends text values in the client encoding, in text and binary format alike.
        return MaskPlan.of(actions, hashKey,
                CopyEncodings.charset(clientEncoding).orElse(null));
    }

    private SessionState state(SessionInfo session) {
        SessionState state = session.attachments().get(stateKey);
        if (state != null) {
            return state; // without building the capturing supplier below
        }
        return session.attachments().computeIfAbsent(stateKey, () -> {
            SessionState created = new SessionState();
            sessions.put(session, created);
            return created;
        });
    }

    @Override
    public void close() {
        idleWatch.shutdownNow();
        if (ownWorkers != null) {
            ownWorkers.shutdownNow();
        }
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
        /** Statements prepared with SQL PREPARE, as the server confirmed them. */
        final SqlPreparedStatements sqlPrepared = new SqlPreparedStatements();
        /** The prepared-statement commands of the message decided last (read right after, as lastStatementCount). */
        volatile List<SqlPreparedStatements.Command> lastCommands = List.of();
        final SearchPathTracker searchPath = new SearchPathTracker();
        volatile PrincipalClass principal;
        volatile SessionContext principalContext;
        volatile int lastStatementCount;
        volatile String lastRevision;
        volatile boolean ranDdl;
        volatile List<Runnable> connectionReleases = List.of();
        volatile boolean ready;
        volatile boolean closed;
        volatile long cancelledAfterReady = Long.MIN_VALUE;
        /** Concurrent-limit slots held while the session runs statements. */
        final Throttles.RunningSlots runningSlots = new Throttles.RunningSlots();
        final CursorRows cursorRows = new CursorRows();
        /** Result layouts the server described, by statement text; more than one means the text is ambiguous. */
        private final Map<String, List<RowDescription>> descriptions = new ConcurrentHashMap<>();
        private final Map<String, String> parsedPath = new ConcurrentHashMap<>();
        private final Map<String, NamedMasks> namedMasks = new ConcurrentHashMap<>();
        /** Event loop only: see {@link #rememberQueryOnEventLoop}. */
        private final String[] queryTexts = new String[IN_FLIGHT_QUERY_SLOTS];
        private final NamedMasks[] queryMasks = new NamedMasks[IN_FLIGHT_QUERY_SLOTS];
        private int nextSpilled;
        /** The COPY ... TO STDOUT plans of each statement text, in statement order. */
        private final Map<String, List<CopyOutPlanner.CopyOutPlan>> copyPlans = new ConcurrentHashMap<>();
        /** Event loop only: the request whose CopyOutResponses are being counted, and how many came. */
        private InFlightRequest copyRequest;
        private int copiesAnswered;
        /** Event loop only: the simple Query whose statement completions are being counted, and how many came. */
        private InFlightRequest resultRequest;
        private int statementsCompleted;

        private static final int REMEMBERED_STATEMENTS = 4096;
        /** Simple Queries a client usually has in flight at once: one, or a short pipeline. */
        private static final int IN_FLIGHT_QUERY_SLOTS = 8;

        void described(String sql, RowDescription description) {
            if (descriptions.size() > REMEMBERED_STATEMENTS) {
                descriptions.clear();
            }
            descriptions.compute(sql, (k, known) -> {
                if (known == null) {
                    return List.of(description);
                }
                if (known.contains(description)) {
                    return known;
                }
                List<RowDescription> more = new ArrayList<>(known);
                more.add(description);
                return List.copyOf(more);
            });
        }

        List<RowDescription> descriptions(String sql) {
            return descriptions.getOrDefault(sql, List.of());
        }

        /** The same text parsed under another search_path may name other tables: its old layouts no longer apply. */
        void parsedUnder(String sql, String searchPathKey) {
            if (parsedPath.size() > REMEMBERED_STATEMENTS) {
                parsedPath.clear();
            }
            String before = parsedPath.put(sql, searchPathKey);
            if (before != null && !before.equals(searchPathKey)) {
                descriptions.remove(sql);
            }
        }

        void plannedCopies(String sql, List<CopyOutPlanner.CopyOutPlan> plans) {
            if (plans.isEmpty()) {
                copyPlans.remove(sql);
                return;
            }
            if (copyPlans.size() > REMEMBERED_STATEMENTS) {
                copyPlans.clear();
            }
            copyPlans.put(sql, plans);
        }

        List<CopyOutPlanner.CopyOutPlan> plannedCopies(String sql) {
            return copyPlans.getOrDefault(sql, List.of());
        }

        /** Which COPY of {@code request}'s statement text a CopyOutResponse answers: 0 for the first. */
        int copyOrdinal(InFlightRequest request) {
            if (copyRequest != request) {
                copyRequest = request;
                copiesAnswered = 0;
            }
            return copiesAnswered++;
        }

        void rememberNamedMasks(String sql, NamedMasks named) {
            if (namedMasks.size() > REMEMBERED_STATEMENTS) {
                namedMasks.clear();
            }
            namedMasks.put(sql, named);
        }

        /**
         * Event loop only: a simple Query decided on the event loop, whose results will name the
         * very String it was decided on (the in-flight request carries the Query's own text).
         * Kept in a few slots until its ReadyForQuery ({@link #queryAnswered}) rather than in
         * {@link #namedMasks}: with literals in the text, nearly every Query is a new key there, and
         * its insertion (and the map's clearing every few thousand) was 3% of the event loops'
         * samples. With every slot taken (a deep pipeline, or Queries refused after their decision
         * that never get their ReadyForQuery here), the slots' entries move to {@link #namedMasks}
         * in turn, where they are found by equality as before.
         */
        void rememberQueryOnEventLoop(String sql, NamedMasks named) {
            int slot = -1;
            for (int i = 0; i < queryTexts.length; i++) {
                if (queryTexts[i] == sql) {
                    slot = i; // the same Query decided again: its latest flags replace the earlier ones
                    break;
                }
                if (slot < 0 && queryTexts[i] == null) {
                    slot = i;
                }
            }
            if (slot < 0) {
                slot = nextSpilled;
                nextSpilled = (nextSpilled + 1) % queryTexts.length;
                rememberNamedMasks(queryTexts[slot], queryMasks[slot]);
            }
            queryTexts[slot] = sql;
            queryMasks[slot] = named;
        }

        /** Event loop only: the simple Query with this text (the same String) has been answered in full. */
        void queryAnswered(String sql) {
            if (sql == null) {
                return;
            }
            for (int i = 0; i < queryTexts.length; i++) {
                if (queryTexts[i] == sql) {
                    queryTexts[i] = null;
                    queryMasks[i] = null;
                    return;
                }
            }
        }

        /** Event loop only. Unknown texts count as naming a masked column (fail closed). */
        boolean namesMaskedColumn(String sql, int statement) {
            for (int i = 0; i < queryTexts.length; i++) {
                if (queryTexts[i] == sql) {
                    return queryMasks[i].names(statement);
                }
            }
            NamedMasks named = namedMasks.get(sql);
            return named == null || named.names(statement);
        }

        /** A statement of {@code request} (a simple Query) completed: the next result is the next statement's. */
        void statementCompleted(InFlightRequest request) {
            if (resultRequest != request) {
                resultRequest = request;
                statementsCompleted = 0;
            }
            statementsCompleted++;
        }

        /** Which statement of {@code request}'s text the result now starting answers: 0 for the first. */
        int statementAnswered(InFlightRequest request) {
            return resultRequest == request ? statementsCompleted : 0;
        }

        /**
         * The session's last single-statement decision, for {@link #repeatedDecision}: one
         * immutable holder, so that a worker and the event loop never see a mix of two.
         */
        private volatile LastDecision lastDecision;

        private record LastDecision(PrincipalClass principal, String searchPath, StatementFacts facts,
                Decision decision) {
        }

        /**
         * The decision of the session's previous statement when this one cannot differ from it,
         * else null. A session tends to repeat one statement shape with new literals, and the
         * analyzer hands out the same {@link StatementFacts} instance for the same normalized text
         * (from its cache) when the literals raise no finding of their own; with the same principal
         * class (which carries the revision) and the same search-path key, the {@link DecisionKey}
         * would be equal, so the decision is the cached one, without building the key and looking
         * it up. Single statements without message findings only; never for a time-dependent class.
         */
        Decision repeatedDecision(PrincipalClass principal, String searchPath, QueryAnalysis analysis) {
            LastDecision last = lastDecision;
            if (last == null || last.principal != principal || analysis.statements().size() != 1
                    || last.facts != analysis.statements().get(0) || !analysis.findings().isEmpty()
                    || !last.searchPath.equals(searchPath)) {
                return null;
            }
            return last.decision;
        }

        void decided(PrincipalClass principal, String searchPath, QueryAnalysis analysis, Decision decision) {
            if (principal.timeDependent() || analysis.statements().size() != 1 || !analysis.findings().isEmpty()) {
                return;
            }
            LastDecision last = lastDecision;
            if (last == null || last.decision != decision || last.facts != analysis.statements().get(0)) {
                lastDecision = new LastDecision(principal, searchPath, analysis.statements().get(0), decision);
            }
        }

        /** The principal class, recomputed when the set or the session's attributes changed, or when it reads time. */
        PrincipalClass principal(PolicySet set, SessionInfo session, Function<SessionInfo, SessionContext> contextOf) {
            PrincipalClass cached = principal;
            SessionContext cachedContext = principalContext;
            // Compared with the session itself: building its context for every lookup (several per
            // statement) costs more than the comparison.
            if (cached != null && !cached.timeDependent() && cached.revision().equals(set.revision())
                    && cachedContext != null && describes(cachedContext, session)) {
                return cached;
            }
            SessionContext context = contextOf.apply(session);
            PrincipalClass computed = set.principalClass(context);
            principal = computed;
            principalContext = context;
            return computed;
        }

    }

    /**
     * Decisions depend on (revision, principal class, search path, statement) only (see
     * {@link PolicySet}); the statement is its normalized text plus whatever the analysis found
     * beyond it (heuristics that read constants, parse success), so two messages share a decision
     * only when they cannot be told apart by the engine (the revision is the principal class's).
     * A final class rather than a record, so that its hash is computed once per statement and
     * compared before the parts: a record's generated equals and hashCode run through
     * method-handle chains (ObjectMethods) that showed in the statement path's profile, and this
     * key is hashed and compared for every statement.
     */
    private static final class DecisionKey {
        private final PrincipalClass principal;
        private final String searchPath;
        private final List<StatementKey> statements;
        private final Set<Heuristic> messageFindings;
        private final int hash;

        private DecisionKey(PrincipalClass principal, String searchPath, List<StatementKey> statements,
                Set<Heuristic> messageFindings) {
            this.principal = principal;
            this.searchPath = searchPath;
            this.statements = statements;
            this.messageFindings = messageFindings;
            // Written out: Objects.hash boxes its arguments into an array on every call.
            this.hash = ((principal.hashCode() * 31 + Objects.hashCode(searchPath)) * 31 + statements.hashCode()) * 31
                    + messageFindings.hashCode();
        }

        static DecisionKey of(PrincipalClass principal, String searchPath, QueryAnalysis analysis) {
            List<StatementKey> statements = new ArrayList<>(analysis.statements().size());
            for (StatementFacts facts : analysis.statements()) {
                statements.add(new StatementKey(facts.kind(), facts.normalized(), facts.parsed(), facts.findings()));
            }
            return new DecisionKey(principal, searchPath, statements, analysis.findings());
        }

        @Override
        public boolean equals(Object other) {
            return other == this || other instanceof DecisionKey that && hash == that.hash
                    && Objects.equals(principal, that.principal) && Objects.equals(searchPath, that.searchPath)
                    && statements.equals(that.statements) && Objects.equals(messageFindings, that.messageFindings);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    /** One statement's part of a {@link DecisionKey}; hand-written equals and hashCode for the same reason. */
    private static final class StatementKey {
        private final StatementKind kind;
        private final String normalized;
        private final boolean parsed;
        private final Set<Heuristic> findings;
        private final int hash;

        StatementKey(StatementKind kind, String normalized, boolean parsed, Set<Heuristic> findings) {
            this.kind = kind;
            this.normalized = normalized;
            this.parsed = parsed;
            this.findings = findings;
            this.hash = ((kind.hashCode() * 31 + Objects.hashCode(normalized)) * 31 + Boolean.hashCode(parsed)) * 31
                    + findings.hashCode();
        }

        @Override
        public boolean equals(Object other) {
            return other == this || other instanceof StatementKey that && hash == that.hash && kind == that.kind
                    && parsed == that.parsed && Objects.equals(normalized, that.normalized)
                    && Objects.equals(findings, that.findings);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }
}
