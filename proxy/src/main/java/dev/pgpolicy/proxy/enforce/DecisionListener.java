package dev.pgpolicy.proxy.enforce;

import dev.pgpolicy.policy.AuditLevel;
import dev.pgpolicy.policy.Decision;
import dev.pgpolicy.proxy.session.InFlightRequest;
import dev.pgpolicy.proxy.session.ServerReply;
import dev.pgpolicy.proxy.session.SessionInfo;
import dev.pgpolicy.proxy.wire.Bind;
import dev.pgpolicy.sql.QueryAnalysis;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Told about every policy decision the proxy takes for a statement, after it is taken and before
 * the statement runs or is refused; the audit log attaches here ({@link StatementAudit}). The
 * decision callbacks run on a decision worker thread or, for a statement decided without one, on
 * the session's event loop; the others on the event loop. Implementations must be quick and
 * thread-safe, must not block, and must not throw.
 *
 * <p>{@link #record} and {@link #bound} return a gate: the statement is forwarded only once it
 * completes normally, and refused with 58030 when it completes exceptionally. That is how
 * {@code audit.fail_closed} keeps a statement from running before its record was written.
 */
public interface DecisionListener {

    /** What the proxy did with the message. */
    enum Outcome {
        /** Forwarded: the policy allows it. */
        ALLOWED,
        /** Refused with 42501. */
        DENIED,
        /** Forwarded although detect-mode rules would deny it. */
        WOULD_DENY,
        /**
         * Refused with 53400 by a limit: {@code queries per second}, before any policy decision,
         * or {@code concurrent}, after the policy allowed it and before its record was written.
         */
        THROTTLED
    }

    /** The gate of a statement that may go ahead now (a minimal stage: nobody can complete it otherwise). */
    CompletionStage<Void> GO_AHEAD = CompletableFuture.completedStage(null);

    /**
     * One decided Query, Parse or Bind, with what the audit log needs of it.
     *
     * @param message {@code Query}, {@code Parse} or {@code Bind}
     * @param statementName the prepared statement a Parse creates or a Bind uses; "" for a Query
     * @param sql the statement text decided
     * @param analysis the SQL analysis (statement kinds, tables, fingerprints, normalized text)
     * @param decision the policy decision; null for a throttled statement, refused before it
     * @param level the audit level the policy sets for the statement
     * @param refusal for a throttled statement, why it was refused; null otherwise
     * @param receivedAt when the message arrived
     * @param receivedNanos {@link System#nanoTime()} when the message arrived
     * @param limitRule for a throttled statement, the id of the limit rule that refused it; null otherwise
     */
    record Decided(SessionInfo session, String message, String statementName, String sql, QueryAnalysis analysis,
            Decision decision, Outcome outcome, LivePolicy.Revision revision, AuditLevel level, String refusal,
            Instant receivedAt, long receivedNanos, String limitRule) {

        /** A decision no limit refused. */
        public Decided(SessionInfo session, String message, String statementName, String sql, QueryAnalysis analysis,
                Decision decision, Outcome outcome, LivePolicy.Revision revision, AuditLevel level, String refusal,
                Instant receivedAt, long receivedNanos) {
            this(session, message, statementName, sql, analysis, decision, outcome, revision, level, refusal,
                    receivedAt, receivedNanos, null);
        }

        public Decided {
            Objects.requireNonNull(session, "session");
            Objects.requireNonNull(message, "message");
            Objects.requireNonNull(statementName, "statementName");
            Objects.requireNonNull(sql, "sql");
            Objects.requireNonNull(analysis, "analysis");
            Objects.requireNonNull(outcome, "outcome");
            Objects.requireNonNull(revision, "revision");
            Objects.requireNonNull(level, "level");
            Objects.requireNonNull(receivedAt, "receivedAt");
            if (decision == null && outcome != Outcome.THROTTLED) {
                throw new IllegalArgumentException("only a throttled statement has no decision");
            }
            if ((limitRule != null) != (outcome == Outcome.THROTTLED)) {
                throw new IllegalArgumentException("a throttled statement, and only it, names the limit rule");
            }
        }
    }

    /**
     * Everything about one decision. The returned gate holds an allowed statement back until it
     * completes ({@link #GO_AHEAD} when nothing needs to wait).
     */
    CompletionStage<Void> record(Decided decided);

    /**
     * A Bind the policy allows is about to be forwarded; its parameters are those of the Executes
     * of its portal. The returned gate holds the Bind back until it completes.
     */
    default CompletionStage<Void> bound(SessionInfo session, Bind bind, Instant receivedAt, long receivedNanos) {
        return GO_AHEAD;
    }

    /** Whether {@link #forwarded} and {@link #replied} are wanted (they cost a decode per completion). */
    default boolean followsCompletions() {
        return false;
    }

    /** See {@link dev.pgpolicy.proxy.session.SessionHooks#onForwarded}. */
    default void forwarded(SessionInfo session, InFlightRequest request) {
    }

    /** See {@link dev.pgpolicy.proxy.session.SessionHooks#onReply}. */
    default void replied(SessionInfo session, InFlightRequest request, ServerReply reply) {
    }

    /**
     * Masks the proxy applies to the result of {@code request} (a simple Query's statement or an
     * Execute), as {@code schema.table.column}: what only the server's RowDescription revealed,
     * such as the columns of {@code SELECT *}. Called on the event loop before the rows pass.
     */
    default void masked(SessionInfo session, InFlightRequest request, java.util.List<String> columns) {
    }

    /** The session ended: statements still waiting for their completion will never get one. */
    default void sessionClosed(SessionInfo session) {
    }

    DecisionListener NONE = decided -> GO_AHEAD;
}
