package dev.pgpolicy.proxy.enforce;

import dev.pgpolicy.policy.Decision;
import dev.pgpolicy.policy.GuardAction;
import dev.pgpolicy.policy.GuardFinding;
import dev.pgpolicy.proxy.audit.AuditConnection;
import dev.pgpolicy.proxy.audit.AuditDecision;
import dev.pgpolicy.proxy.audit.AuditLevel;
import dev.pgpolicy.proxy.audit.AuditLog;
import dev.pgpolicy.proxy.audit.AuditObject;
import dev.pgpolicy.proxy.audit.AuditRecord;
import dev.pgpolicy.proxy.audit.AuditStatement;
import dev.pgpolicy.proxy.audit.AuditUnavailableException;
import dev.pgpolicy.proxy.session.InFlightRequest;
import dev.pgpolicy.proxy.session.ServerReply;
import dev.pgpolicy.proxy.session.SessionAttachments;
import dev.pgpolicy.proxy.session.SessionInfo;
import dev.pgpolicy.proxy.wire.Bind;
import dev.pgpolicy.proxy.wire.Bytes;
import dev.pgpolicy.proxy.wire.ErrorResponse;
import dev.pgpolicy.sql.StatementFacts;
import dev.pgpolicy.sql.TableAccess;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes one {@code statement} record per statement to the audit log, at the level the policy
 * sets for the session (docs/audit.md):
 *
 * <pre>
 *   denied, throttled              record at decision time (a concurrent limit is checked
 *                                  before an allowed statement's record, so a statement it
 *                                  refuses gets a throttle record and no allow record)
 *   simple Query, allowed          one pending record per statement; each CommandComplete (in
 *                                  order) or ErrorResponse completes the next one with rows,
 *                                  duration and SQLSTATE; ReadyForQuery ends the Query
 *   Parse, Bind of a SQL-PREPAREd  remembers the decision under the statement name
 *   statement (decided on its text)
 *   Bind + Execute                 the Bind's parameters wait with its portal; each Execute
 *                                  completing (in order) writes a record
 *   audit.fail_closed              every allowed statement's record is written at decision
 *                                  (Query) or Bind time, and the statement waits for the
 *                                  writer's confirmation; a refused record refuses it (58030)
 * </pre>
 *
 * Statements are matched to completions by order alone: the server answers requests in the order
 * they were sent, and the session reports Executes, Syncs and replies in that order.
 */
public final class StatementAudit implements DecisionListener {

    private static final Logger LOG = LoggerFactory.getLogger(StatementAudit.class);
    private static final HexFormat HEX = HexFormat.of();
    private static final CompletionStage<Void> GO_AHEAD = DecisionListener.GO_AHEAD;
    /** Marks a Sync in the queue of Executes: where the server resumes after an error. */
    private static final Execution SYNC = new Execution(null, Instant.EPOCH, 0);
    /**
     * Slots of the per-decision and per-statement memos: more than the distinct statements of a
     * typical application's steady traffic, few enough that what they keep alive is small.
     */
    private static final int DECISIONS_KEPT = 1024;

    private final AuditLog log;
    /** Each session's trail, kept with the session: looked up for every decision and every reply. */
    private final SessionAttachments.Key<Trail> trailKey = new SessionAttachments.Key<>("statement audit");
    /** {@link #verdict}: what each recently seen decision says for the audit. */
    private final IdentityMemo<Decision, Verdict> verdicts = new IdentityMemo<>(DECISIONS_KEPT);
    /** {@link #described}: recently seen statements' facts as records show them. */
    private final IdentityMemo<StatementFacts, Described> described = new IdentityMemo<>(DECISIONS_KEPT);
    private volatile RevisionText revisionText;

    public StatementAudit(AuditLog log) {
        this.log = Objects.requireNonNull(log, "log");
    }

    /**
     * Who is connected, as every audit record of the session names it, built from the session's
     * values now (statement records use the session's {@link SessionConnection} instead).
     */
    public static AuditConnection connection(SessionInfo session) {
        return SessionConnection.now(session);
    }

    // ------------------------------------------------------------------ decisions (worker threads or event loop)

    @Override
    public boolean followsCompletions() {
        return true;
    }

    @Override
    public CompletionStage<Void> record(Decided decided) {
        try {
            return recordDecision(decided);
        } catch (RuntimeException e) {
            LOG.error("session {}: audit record of a {} could not be built", decided.session().id(), decided.message(), e);
            return log.failClosed() ? CompletableFuture.failedFuture(e) : GO_AHEAD;
        }
    }

    private CompletionStage<Void> recordDecision(Decided decided) {
        Draft draft = new Draft(decided.sql(), described(decided.analysis().statements()), verdict(decided),
                revisionText(decided.revision()), decided.receivedAt(), decided.receivedNanos());
        boolean refused = decided.outcome() == Outcome.DENIED || decided.outcome() == Outcome.THROTTLED;
        if (refused) {
            // The statement does not run: nothing will complete it, and nothing waits for the record.
            if (draft.level() == null) {
                return GO_AHEAD;
            }
            AuditConnection connection = trail(decided.session()).connection.of(decided.session());
            for (int i = 0; i < draft.statementCount(); i++) {
                write(draft.record(decided.session(), connection, i, draft.receivedAt(), null, null, null));
            }
            return GO_AHEAD;
        }
        if (log.failClosed() && !log.healthy()) {
            return CompletableFuture.failedFuture(new AuditUnavailableException(unavailable()));
        }
        Trail trail = trail(decided.session());
        switch (decided.message()) {
            case "Query":
                if (log.failClosed()) {
                    if (draft.level() == null) {
                        return GO_AHEAD;
                    }
                    List<CompletableFuture<Void>> written = new ArrayList<>();
                    AuditConnection connection = trail.connection.of(decided.session());
                    for (int i = 0; i < draft.statementCount(); i++) {
                        written.add(log.appendConfirmed(draft.record(decided.session(), connection, i,
                                draft.receivedAt(), null, null, null)));
                    }
                    return CompletableFuture.allOf(written.toArray(CompletableFuture[]::new));
                }
                // Queued even when not audited, so that the replies of pipelined Queries still meet
                // their own Query when a reload changes the level between them.
                trail.queries.addLast(new PendingQuery(draft));
                return GO_AHEAD;
            case "Parse":
            case "Bind":
                trail.statements.put(decided.statementName(), draft);
                return GO_AHEAD;
            default:
                throw new IllegalArgumentException("unknown message " + decided.message());
        }
    }

    // ------------------------------------------------------------------ extended protocol (event loop, or worker after a re-decided Bind)

    @Override
    public CompletionStage<Void> bound(SessionInfo session, Bind bind, Instant receivedAt, long receivedNanos) {
        if (log.failClosed() && !log.healthy()) {
            return CompletableFuture.failedFuture(new AuditUnavailableException(unavailable()));
        }
        Trail trail = trail(session);
        Draft draft = trail.statements.get(bind.statementName());
        if (draft == null || draft.level() == null) {
            // No decision recorded under this name (the policy hooks decide every Bind of a
            // statement prepared by Parse or SQL PREPARE before this), or not audited at this level.
            trail.portals.remove(bind.portalName());
            return GO_AHEAD;
        }
        Binding binding = new Binding(draft, draft.level() == AuditLevel.FULL ? parameters(bind) : List.of());
        if (log.failClosed()) {
            trail.portals.remove(bind.portalName());
            try {
                return log.appendConfirmed(binding.record(session, trail.connection.of(session), receivedAt, null,
                        null, null));
            } catch (RuntimeException e) {
                LOG.error("session {}: audit record of a Bind could not be built", session.id(), e);
                return CompletableFuture.failedFuture(e);
            }
        }
        trail.portals.put(bind.portalName(), binding);
        return GO_AHEAD;
    }

    /** Text parameters as text, binary ones as {@code \x} hex (as bytea prints), SQL NULL as null. */
    static List<String> parameters(Bind bind) {
        List<String> values = new ArrayList<>(bind.parameters().size());
        for (int i = 0; i < bind.parameters().size(); i++) {
            Optional<Bytes> value = bind.parameters().get(i);
            if (value.isEmpty()) {
                values.add(null);
            } else if (bind.parameterFormat(i) == 0) {
                values.add(new String(value.get().toByteArray(), StandardCharsets.UTF_8));
            } else {
                values.add("\\x" + HEX.formatHex(value.get().toByteArray()));
            }
        }
        return values;
    }

    @Override
    public void forwarded(SessionInfo session, InFlightRequest request) {
        Trail trail = trail(session);
        if (request.kind() == InFlightRequest.Kind.SYNC) {
            trail.executions.addLast(SYNC);
        } else if (request.kind() == InFlightRequest.Kind.EXECUTE) {
            // A portal the audit does not follow still takes its place in the order.
            trail.executions.addLast(new Execution(trail.portals.get(request.name()), Instant.now(), System.nanoTime()));
        }
    }

    @Override
    public void masked(SessionInfo session, InFlightRequest request, List<String> columns) {
        Trail trail = session.attachments().get(trailKey);
        if (trail == null) {
            return;
        }
        if (request.kind() == InFlightRequest.Kind.SIMPLE_QUERY) {
            PendingQuery query = trail.queries.peekFirst();
            if (query != null) {
                query.masks = addMasks(query.masks, columns);
            }
        } else if (request.kind() == InFlightRequest.Kind.EXECUTE) {
            Execution execution = trail.executions.peekFirst();
            if (execution != null && execution != SYNC) {
                execution.masks = addMasks(execution.masks, columns);
            }
        }
    }

    // ------------------------------------------------------------------ completions (event loop)

    @Override
    public void replied(SessionInfo session, InFlightRequest request, ServerReply reply) {
        try {
            Trail trail = session.attachments().get(trailKey);
            if (trail == null) {
                return;
            }
            switch (request.kind()) {
                case SIMPLE_QUERY -> queryReplied(session, trail, reply);
                case EXECUTE -> executeReplied(session, trail, reply);
                case SYNC -> {
                    if (reply.kind() == ServerReply.Kind.READY) {
                        syncReached(trail);
                    }
                }
                default -> {
                    // An error of a Parse, Bind or Describe: the server skips the Executes up to
                    // the Sync, which syncReached() drops.
                }
            }
        } catch (RuntimeException e) {
            LOG.error("session {}: audit record of a completed statement could not be built", session.id(), e);
        }
    }

    private void queryReplied(SessionInfo session, Trail trail, ServerReply reply) {
        PendingQuery query = trail.queries.peekFirst();
        if (query == null) {
            return; // a Query decided before the audit followed the session (fail_closed writes first)
        }
        switch (reply.kind()) {
            case COMMAND_COMPLETE -> query.complete(this, session, trail.connection.of(session),
                    rows(reply.commandTag().orElse("")), null);
            case ERROR -> query.complete(this, session, trail.connection.of(session), null, reply.error().orElseThrow());
            case EMPTY_QUERY, PORTAL_SUSPENDED -> { }
            case READY -> {
                trail.queries.pollFirst();
                query.notRun(this, session, trail.connection.of(session),
                        "not run: an earlier statement of the same Query failed");
            }
        }
    }

    private void executeReplied(SessionInfo session, Trail trail, ServerReply reply) {
        if (reply.kind() == ServerReply.Kind.READY) {
            return;
        }
        Execution execution = trail.executions.peekFirst();
        if (execution == null || execution == SYNC) {
            return; // out of step (an Execute sent before auditing followed the session): keep the Sync marker
        }
        trail.executions.pollFirst();
        if (execution.binding() == null) {
            return;
        }
        Duration took = Duration.ofNanos(Math.max(0, System.nanoTime() - execution.startedNanos()));
        AuditConnection connection = trail.connection.of(session);
        switch (reply.kind()) {
            case COMMAND_COMPLETE -> write(execution.record(session, connection, rows(reply.commandTag().orElse("")),
                    took, null));
            case PORTAL_SUSPENDED -> write(execution.record(session, connection, null, took,
                    "portal suspended at the Execute's row limit; the next Execute of the portal continues it"));
            case EMPTY_QUERY -> write(execution.record(session, connection, 0L, took, null));
            case ERROR -> write(execution.failed(session, connection, took, reply.error().orElseThrow()));
            case READY -> { }
        }
    }

    /** Executes sent before this Sync that got no reply were skipped by the server after an error: they did not run. */
    private static void syncReached(Trail trail) {
        Execution execution;
        while ((execution = trail.executions.pollFirst()) != null && execution != SYNC) {
            // skipped
        }
    }

    @Override
    public void sessionClosed(SessionInfo session) {
        Trail trail = session.attachments().remove(trailKey);
        if (trail == null) {
            return;
        }
        try {
            AuditConnection connection = trail.connection.of(session);
            PendingQuery query;
            while ((query = trail.queries.pollFirst()) != null) {
                query.notRun(this, session, connection, "the session ended before the statement completed");
            }
            Execution execution;
            while ((execution = trail.executions.pollFirst()) != null) {
                if (execution != SYNC && execution.binding() != null) {
                    write(execution.record(session, connection, null, null,
                            "the session ended before the statement completed"));
                }
            }
        } catch (RuntimeException e) {
            LOG.error("session {}: audit records of unfinished statements could not be built", session.id(), e);
        }
    }

    /**
     * The row count of a CommandComplete tag: its last word for the commands that report one
     * ({@code SELECT 3}, {@code INSERT 0 1}, {@code UPDATE 2}, {@code COPY 5}, ...), otherwise null.
     */
    static Long rows(String tag) {
        int space = tag.lastIndexOf(' ');
        if (space < 0 || space == tag.length() - 1) {
            return null;
        }
        // Read in place: no substring for every statement that completes.
        for (int i = space + 1; i < tag.length(); i++) {
            if (!Character.isDigit(tag.charAt(i))) {
                return null;
            }
        }
        try {
            return Long.parseLong(tag, space + 1, tag.length(), 10);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    void write(AuditRecord record) {
        if (!log.append(record)) {
            // Counted by the log and reported in its next log_start; with fail_closed the next
            // statement is refused because the log reports itself unhealthy.
            LOG.debug("audit record of session {} refused by the audit log", record.sessionId());
        }
    }

    private String unavailable() {
        String failure = log.failure();
        return failure != null ? "audit log cannot write: " + failure : "the audit log refuses records (queue full or closed)";
    }

    private Trail trail(SessionInfo session) {
        return session.attachments().computeIfAbsent(trailKey, Trail::new);
    }

    // ------------------------------------------------------------------ what a decision says, kept with the decision

    /**
     * The audit's reading of {@code decided}'s decision. A cached {@code Decision} is handed out
     * again for every statement with its fingerprint and principal class, and its reading is then
     * the same every time; it is kept with the decision's identity so that a cached statement's
     * record builds no rule list, mask set or reason. The level and outcome come from the policy
     * and the enforcement, not from the decision alone, so a kept reading is used only when they
     * match too. A statement refused by a limit or with its own refusal is read afresh.
     */
    private Verdict verdict(Decided decided) {
        Decision decision = decided.decision();
        if (decision == null || decided.refusal() != null) {
            return Verdict.of(decided);
        }
        Verdict kept = verdicts.get(decision);
        if (kept != null && kept.outcome() == decided.outcome() && kept.policyLevel() == decided.level()) {
            return kept;
        }
        return verdicts.put(decision, Verdict.of(decided));
    }

    /**
     * The revision as records name it: a reload brings a new {@code Revision} object, so one
     * string per revision, not per record. Keyed by identity: a decision cached across a reload
     * still takes the revision of the {@code Decided} it comes with.
     */
    private String revisionText(LivePolicy.Revision revision) {
        RevisionText held = revisionText;
        if (held != null && held.revision() == revision) {
            return held.text();
        }
        String text = revision.toString();
        revisionText = new RevisionText(revision, text);
        return text;
    }

    private record RevisionText(LivePolicy.Revision revision, String text) {
    }

    /**
     * What records say about each statement of a message. The facts of a statement seen before come
     * from the analyzer's cache, the same instance each time, so their description (the kind's
     * name, each table's qualified name) is kept with them rather than written again per record.
     */
    private List<Described> described(List<StatementFacts> statements) {
        if (statements.size() == 1) {
            return List.of(described.computeIfAbsent(statements.get(0), Described::of));
        }
        List<Described> all = new ArrayList<>(statements.size());
        for (StatementFacts facts : statements) {
            all.add(described.computeIfAbsent(facts, Described::of));
        }
        return List.copyOf(all);
    }

    /** One statement's facts as its records show them. */
    private record Described(String kind, List<AuditObject> objects, String fingerprint, String normalized) {

        static Described of(StatementFacts facts) {
            List<AuditObject> objects = new ArrayList<>(facts.tables().size());
            for (TableAccess access : facts.tables()) {
                objects.add(new AuditObject(access.table().toString(), access.action().keyword()));
            }
            return new Described(facts.kind().name().toLowerCase(Locale.ROOT), List.copyOf(objects),
                    facts.fingerprint(), facts.normalized());
        }
    }

    /**
     * What a decision says about its statements, reduced to the audit level at once so that text
     * the level excludes is never kept.
     *
     * @param level the record's level, or null when the policy keeps no statement records
     * @param outcome the enforcement's outcome it was read for
     * @param policyLevel the policy's audit level it was read for
     */
    private record Verdict(AuditLevel level, AuditDecision decision, List<String> rules, List<String> masks,
            String reason, Outcome outcome, dev.pgpolicy.policy.AuditLevel policyLevel) {

        static Verdict of(Decided decided) {
            Decision decision = decided.decision();
            List<String> rules = new ArrayList<>();
            String reason = decided.refusal();
            AuditDecision outcome;
            switch (decided.outcome()) {
                case DENIED -> {
                    outcome = AuditDecision.DENY;
                    if (reason == null) {
                        rules.addAll(decision.ruleIds());
                        reason = decision.reason();
                    }
                }
                case THROTTLED -> {
                    outcome = AuditDecision.THROTTLE;
                    rules.add(decided.limitRule());
                }
                case WOULD_DENY -> {
                    outcome = AuditDecision.WOULD_DENY;
                    rules.addAll(decision.detectRuleIds());
                }
                case ALLOWED -> {
                    rules.addAll(decision.ruleIds());
                    Optional<GuardFinding> warning = decision.findings().stream()
                            .filter(finding -> finding.action() == GuardAction.WARN).findFirst();
                    if (warning.isPresent()) {
                        outcome = AuditDecision.WARN;
                        reason = "guard warning: " + warning.get().heuristic().keyword();
                    } else if (!decision.detectRuleIds().isEmpty()) {
                        outcome = AuditDecision.WOULD_MASK;
                        rules.addAll(decision.detectRuleIds());
                    } else {
                        outcome = AuditDecision.ALLOW;
                    }
                }
                default -> throw new AssertionError(decided.outcome());
            }
            List<String> masks = decision == null ? List.of() : List.copyOf(new TreeSet<>(decision.masks().keySet()));
            return new Verdict(level(decided.level()), outcome, List.copyOf(new LinkedHashSet<>(rules)), masks,
                    reason == null || reason.isEmpty() ? null : reason, decided.outcome(), decided.level());
        }

        /** The record's level, or null when the policy keeps no statement records (none, connections). */
        private static AuditLevel level(dev.pgpolicy.policy.AuditLevel level) {
            return switch (level) {
                case NONE, CONNECTIONS -> null;
                case METADATA -> AuditLevel.METADATA;
                case STATEMENTS -> AuditLevel.STATEMENTS;
                case FULL -> AuditLevel.FULL;
            };
        }
    }

    // ------------------------------------------------------------------ state

    /** One session's statements waiting for their completion. */
    private static final class Trail {
        /** Who the session's records name, built again only when a field it shows changes. */
        final SessionConnection connection = new SessionConnection();
        /** Allowed Queries sent upstream, oldest first. */
        final Deque<PendingQuery> queries = new ConcurrentLinkedDeque<>();
        /** The decision of each prepared statement, by name. */
        final Map<String, Draft> statements = new ConcurrentHashMap<>();
        /** What each portal runs, by name, as its last Bind set it. */
        final Map<String, Binding> portals = new ConcurrentHashMap<>();
        /** Executes and Syncs sent upstream and not answered yet, oldest first. */
        final Deque<Execution> executions = new ConcurrentLinkedDeque<>();
    }

    /** Columns masked in a result, once each, sorted; allocated when the first mask is reported. */
    private static Set<String> addMasks(Set<String> masks, List<String> columns) {
        Set<String> into = masks == null ? new TreeSet<>() : masks;
        into.addAll(columns);
        return into;
    }

    /** An Execute sent upstream: the Bind of its portal (null when not audited) and the masks its rows got. */
    private static final class Execution {
        final Binding binding;
        final Instant startedAt;
        final long startedNanos;
        /** Null until a mask is reported; touched on the session's event loop only. */
        Set<String> masks;

        Execution(Binding binding, Instant startedAt, long startedNanos) {
            this.binding = binding;
            this.startedAt = startedAt;
            this.startedNanos = startedNanos;
        }

        Binding binding() {
            return binding;
        }

        long startedNanos() {
            return startedNanos;
        }

        AuditRecord record(SessionInfo session, AuditConnection connection, Long rows, Duration took, String reason) {
            return binding.draft().record(session, connection, 0, startedAt, rows, took, reason, null,
                    binding.parameters(), masks);
        }

        AuditRecord failed(SessionInfo session, AuditConnection connection, Duration took, ErrorResponse error) {
            return binding.draft().record(session, connection, 0, startedAt, null, took, error.message(), error.code(),
                    binding.parameters(), masks);
        }
    }

    /** A Bind of an audited statement: its decision and, at level full, its parameters. */
    private record Binding(Draft draft, List<String> parameters) {

        AuditRecord record(SessionInfo session, AuditConnection connection, Instant at, Long rows, Duration took,
                String reason) {
            return draft.record(session, connection, 0, at, rows, took, reason, null, parameters, null);
        }
    }

    /** The statements of one allowed Query, completed one by one as the server reports them. */
    private static final class PendingQuery {
        private final Draft draft;
        private int next;
        /** Masks applied to the result of the statement the server is running now (null: none); event loop only. */
        Set<String> masks;

        PendingQuery(Draft draft) {
            this.draft = draft;
        }

        void complete(StatementAudit audit, SessionInfo session, AuditConnection connection, Long rows,
                ErrorResponse error) {
            if (draft.level() == null || next >= draft.statementCount()) {
                return; // more completions than the analysis found statements: nothing left to attribute
            }
            Duration took = Duration.ofNanos(Math.max(0, System.nanoTime() - draft.receivedNanos()));
            audit.write(draft.record(session, connection, next++, draft.receivedAt(), rows, took,
                    error == null ? null : error.message(), error == null ? null : error.code(), List.of(), masks));
            masks = null;
        }

        void notRun(StatementAudit audit, SessionInfo session, AuditConnection connection, String reason) {
            while (draft.level() != null && next < draft.statementCount()) {
                audit.write(draft.record(session, connection, next++, draft.receivedAt(), null, null, reason));
            }
        }
    }

    /** One decided message: its text and analysis, the decision's verdict, and when it arrived. */
    private record Draft(String sql, List<Described> statements, Verdict verdict, String revision,
            Instant receivedAt, long receivedNanos) {

        /** The record's level, or null when the policy keeps no statement records (none, connections). */
        AuditLevel level() {
            return verdict.level();
        }

        /** The masks the decision named plus those applied to the result, once each, sorted. */
        private List<String> allMasks(Set<String> resultMasks) {
            if (resultMasks == null || resultMasks.isEmpty()) {
                return verdict.masks();
            }
            TreeSet<String> all = new TreeSet<>(verdict.masks());
            all.addAll(resultMasks);
            return List.copyOf(all);
        }

        int statementCount() {
            return Math.max(1, statements.size());
        }

        AuditRecord record(SessionInfo session, AuditConnection connection, int index, Instant at, Long rows,
                Duration took, String why) {
            return record(session, connection, index, at, rows, took, why, null, List.of(), null);
        }

        AuditRecord record(SessionInfo session, AuditConnection connection, int index, Instant at, Long rows,
                Duration took, String why, String sqlState, List<String> parameters, Set<String> resultMasks) {
            Described facts = index < statements.size() ? statements.get(index) : null;
            AuditLevel level = verdict.level();
            String reason = verdict.reason();
            // As AuditStatement.Builder#sql keeps it: the level decides which text a record may hold.
            String text = switch (level) {
                case METADATA -> null;
                case STATEMENTS -> facts == null ? null : facts.normalized();
                case FULL -> sql;
            };
            AuditStatement statement = new AuditStatement(facts == null ? "unknown" : facts.kind(),
                    facts == null ? List.of() : facts.objects(), facts == null ? null : facts.fingerprint(), level, text,
                    level == AuditLevel.FULL ? parameters : List.of(), verdict.decision(), verdict.rules(),
                    allMasks(resultMasks), rows, took,
                    why != null ? (reason == null ? why : reason + "; " + why) : reason, sqlState,
                    index + 1, statementCount());
            return AuditRecord.statement(at, session.id(), connection, statement, revision);
        }
    }
}
