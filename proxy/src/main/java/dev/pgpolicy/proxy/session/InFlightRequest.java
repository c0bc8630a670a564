package dev.pgpolicy.proxy.session;

import dev.pgpolicy.proxy.wire.ErrorResponse;
import java.util.Objects;
import java.util.Optional;

/**
 * One request the server has not finished answering, in the order the client sent it. Results
 * (RowDescription, DataRow, CommandComplete) belong to the request at the head of the queue,
 * which is how a pipelined Parse/Bind/Execute ... Sync batch is attributed statement by statement.
 *
 * @param kind what the client asked for
 * @param name the statement (Parse, Describe/Close statement) or portal (Bind, Execute,
 *     Describe/Close portal) it names; "" is the unnamed one
 * @param sql the SQL text the request runs, when known: the Query text, the Parse text, or the
 *     text of the statement a Bind or Execute goes back to
 * @param denial the error the client sees instead of the server's, when a hook denied the request
 *     and the session sent a failing statement upstream in its place
 */
public record InFlightRequest(Kind kind, String name, Optional<String> sql, Optional<ErrorResponse> denial,
        boolean synthetic) {

    public enum Kind {
        /** Query ('Q'): answered by any number of results, then ReadyForQuery. */
        SIMPLE_QUERY,
        /** Parse: ParseComplete. */
        PARSE,
        /** Bind: BindComplete. */
        BIND,
        /** Describe statement: ParameterDescription, then RowDescription or NoData. */
        DESCRIBE_STATEMENT,
        /** Describe portal: RowDescription or NoData. */
        DESCRIBE_PORTAL,
        /** Execute: DataRows, then CommandComplete, EmptyQueryResponse or PortalSuspended. */
        EXECUTE,
        /** Close: CloseComplete. */
        CLOSE,
        /** Sync: ReadyForQuery. */
        SYNC,
        /** FunctionCall ('F'): FunctionCallResponse, then ReadyForQuery. */
        FUNCTION_CALL;

        /** Whether ReadyForQuery ends this request (simple protocol and Sync) rather than its own reply. */
        public boolean endsWithReadyForQuery() {
            switch (this) {
                case SIMPLE_QUERY:
                case SYNC:
                case FUNCTION_CALL:
                    return true;
                case PARSE:
                case BIND:
                case DESCRIBE_STATEMENT:
                case DESCRIBE_PORTAL:
                case EXECUTE:
                case CLOSE:
                    return false;
            }
            throw new AssertionError(this);
        }
    }

    public InFlightRequest {
        Objects.requireNonNull(kind);
        Objects.requireNonNull(name);
        Objects.requireNonNull(sql);
        Objects.requireNonNull(denial);
    }

    static InFlightRequest of(Kind kind, String name, String sql) {
        return new InFlightRequest(kind, name, Optional.ofNullable(sql), Optional.empty(), false);
    }

    /** A request the session added itself (to fail a denied statement upstream); its replies are not relayed. */
    static InFlightRequest synthetic(Kind kind) {
        return new InFlightRequest(kind, "", Optional.empty(), Optional.empty(), true);
    }

    InFlightRequest withDenial(ErrorResponse error) {
        return new InFlightRequest(kind, name, sql, Optional.of(error), synthetic);
    }
}
