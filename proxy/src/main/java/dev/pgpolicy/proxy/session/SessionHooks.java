package dev.pgpolicy.proxy.session;

import dev.pgpolicy.proxy.wire.Bind;
import dev.pgpolicy.proxy.wire.CopyOutResponse;
import dev.pgpolicy.proxy.wire.ErrorResponse;
import dev.pgpolicy.proxy.wire.FunctionCall;
import dev.pgpolicy.proxy.wire.Parse;
import dev.pgpolicy.proxy.wire.Query;
import dev.pgpolicy.proxy.wire.RowDescription;
import java.util.Optional;

/**
 * Where policy enforcement and masking act on a session. The session calls these on its event
 * loop, in protocol order, before it forwards the message; an implementation must not block.
 * A decision that needs slow work (SQL analysis on a bounded executor) returns {@link
 * Verdict#pending}: the session then holds the request and everything after it, reads nothing
 * more from the client, and resumes in order when the decision completes. With {@link #RELAY}
 * every message is forwarded unchanged and results are never decoded.
 *
 * <pre>
 *   client ── Query / Parse / Bind / FunctionCall ──► onQuery ... ──► FORWARD | REWRITE | DENY
 *   client ◄── RowDescription, DataRow ── onRowDescription / onExecute ── RowFilter ◄── server
 *   client ◄── CopyData ─────────────────────────────── onCopyOut ─────── CopyFilter ◄── server
 * </pre>
 *
 * A denied request never runs, and the transaction outcome is the server's: the session sends a
 * statement that fails in its place, so an open transaction block is failed exactly as if the
 * server had rejected the statement, and the client sees the hook's error in the server's place.
 */
public interface SessionHooks {

    /** Forwards everything, inspects nothing. */
    SessionHooks RELAY = new SessionHooks() {};

    /**
     * The server accepted the session and is about to report it ready. An error returned here
     * (a connection limit, SQLSTATE 53300) ends the session with it, as FATAL, instead.
     */
    default Optional<ErrorResponse> onSessionReady(SessionInfo session) {
        return Optional.empty();
    }

    /** A session that {@link #onSessionReady} accepted has ended; called once. */
    default void onSessionClosed(SessionInfo session) {
    }

    /**
     * A ReadyForQuery from the server is on its way to the client: a Query, FunctionCall or sync
     * group has ended. {@link SessionInfo#idleSinceNanos()} tells whether anything else is still
     * in flight or waiting for a decision.
     */
    default void onReadyForQuery(SessionInfo session) {
    }

    default Verdict onQuery(SessionInfo session, Query query) {
        return Verdict.FORWARD;
    }

    default Verdict onParse(SessionInfo session, Parse parse) {
        return Verdict.FORWARD;
    }

    /** {@code statementSql} is the text of the statement bound, when the session saw its Parse. */
    default Verdict onBind(SessionInfo session, Bind bind, Optional<String> statementSql) {
        return Verdict.FORWARD;
    }

    /**
     * A fast-path function call ('F'): it runs a function by OID without SQL text, so a policy
     * that restricts functions must see it here. Only {@link Verdict#FORWARD} and a denial apply.
     */
    default Verdict onFunctionCall(SessionInfo session, FunctionCall call) {
        return Verdict.FORWARD;
    }

    /**
     * Whether results must be inspected. When false (the default) RowDescription and DataRow
     * frames (and COPY data) pass without being decoded and the methods below are never called.
     */
    default boolean inspectsResults() {
        return false;
    }

    /**
     * A RowDescription from the server, answering {@code request} (a simple Query or a
     * Describe). The returned filter sees the DataRows that follow it within a simple Query.
     */
    default RowFilter onRowDescription(SessionInfo session, InFlightRequest request, RowDescription description) {
        return RowFilter.UNCHANGED;
    }

    /** The first result of an Execute; the filter sees the DataRows of that Execute. */
    default RowFilter onExecute(SessionInfo session, InFlightRequest request) {
        return RowFilter.UNCHANGED;
    }

    /**
     * Whether {@link #onForwarded} and {@link #onReply} must be called (the audit log completes
     * statement records with them). When false (the default) completions are not decoded.
     */
    default boolean followsCompletions() {
        return false;
    }

    /**
     * An Execute or Sync of the client is on its way upstream, in the order the client sent it:
     * with {@link #onReply} this tells which Bind an Execute's completion belongs to, and which
     * requests the server skipped after an error.
     */
    default void onForwarded(SessionInfo session, InFlightRequest request) {
    }

    /**
     * The server completed or failed (part of) {@code request}, a simple Query or an Execute, or
     * ended it with ReadyForQuery (for Query and Sync). Not called for denied requests, whose
     * outcome the hooks decided themselves.
     */
    default void onReply(SessionInfo session, InFlightRequest request, ServerReply reply) {
    }

    /**
     * A CopyOutResponse from the server, answering {@code request} (a simple Query, whose text may
     * hold several COPY statements, or an Execute). The returned filter sees the CopyData of this
     * COPY, up to its CopyDone. Throwing {@link SessionException} ends the session.
     */
    default CopyFilter onCopyOut(SessionInfo session, InFlightRequest request, CopyOutResponse response) {
        return CopyFilter.UNCHANGED;
    }

    /**
     * A CopyOutResponse answering {@code request} ({@code COPY ... TO STDOUT}): the returned
     * filter's {@link RowFilter#admit} sees each CopyData that follows (the server sends one per
     * row) before {@link #onCopyOut}'s filter rewrites it; {@link RowFilter#filter} is not called.
     */
    default RowFilter onCopyOutRows(SessionInfo session, InFlightRequest request) {
        return RowFilter.UNCHANGED;
    }
}
