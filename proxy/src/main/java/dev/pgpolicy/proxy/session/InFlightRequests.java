package dev.pgpolicy.proxy.session;

import dev.pgpolicy.proxy.session.InFlightRequest.Kind;
import dev.pgpolicy.proxy.wire.ProtocolException;
import dev.pgpolicy.proxy.wire.SqlState;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The ordered queue of requests sent upstream and not yet fully answered, plus the prepared
 * statements and portals they name. Every server reply is matched against the head of the queue
 * ({@link #attribute}), following the message flow in the PostgreSQL protocol documentation
 * ("Message Flow": Simple Query, Extended Query, Pipelining):
 *
 * <pre>
 *   client:  Parse  Bind  Describe(P)  Execute  Parse  Bind  Execute  Sync
 *   server:  1      2     T            D.. C    1      2     D.. C    Z
 * </pre>
 *
 * After an error in the extended protocol the server discards everything up to the next Sync, so
 * the queue does the same with the requests it holds and, until a Sync arrives, with new ones.
 * A reply that does not fit the queue means the proxy no longer knows which statement a row
 * belongs to; that is a protocol error, never a guess.
 *
 * <p>The statement and portal names change when a Parse, Bind or Close is sent, not when the
 * server confirms it, because a pipelined Bind must find the text of the Parse before it. So that
 * the names still follow what the server holds, each change is taken back when the server does
 * not make it: the request failed, or was discarded after another one failed. Otherwise a Parse
 * refused for a name already in use ({@code 42P05}) would leave the proxy deciding and recording
 * later Binds of that name on the refused text while the server runs the earlier one.
 */
public final class InFlightRequests {

    private final ArrayDeque<InFlightRequest> queue = new ArrayDeque<>();
    private final Map<String, String> statements = new HashMap<>();
    private final Map<String, String> portals = new HashMap<>();
    /**
     * The name changes of requests still in the queue, in queue order: the first is the oldest
     * request not yet confirmed. Only changes that changed something are kept, so a Bind of the
     * unnamed portal to the statement it was bound to before (every execution of a prepared
     * statement) adds nothing here.
     */
    private final ArrayDeque<Change> changes = new ArrayDeque<>();
    /** PostgreSQL's ignore_till_sync: set by an error in the extended protocol, cleared by Sync. */
    private boolean serverSkippingUntilSync;

    /** Records a request on its way upstream, in order. */
    public void sent(InFlightRequest request) {
        if (serverSkippingUntilSync) {
            if (request.kind() != Kind.SYNC) {
                return; // the server will discard it without a reply
            }
            serverSkippingUntilSync = false;
        }
        queue.addLast(request);
    }

    /** Records a Parse of {@code sql} as statement {@code name} on its way upstream. */
    public void sentParse(String name, String sql) {
        InFlightRequest request = InFlightRequest.of(Kind.PARSE, name, sql);
        change(request, statements, name, sql);
        sent(request);
    }

    /** Records a Bind of {@code statement} into {@code portal} on its way upstream. */
    public void sentBind(String portal, String statement) {
        String sql = statements.get(statement);
        InFlightRequest request = InFlightRequest.of(Kind.BIND, portal, sql);
        change(request, portals, portal, sql);
        sent(request);
    }

    /** Records a Close of a statement or portal on its way upstream. */
    public void sentClose(boolean statement, String name) {
        InFlightRequest request = InFlightRequest.of(Kind.CLOSE, name, null);
        change(request, statement ? statements : portals, name, null);
        sent(request);
    }

    /**
     * Forgets a name the server is not asked about: the session refused the Parse or Bind that
     * would have defined it and answered the client itself.
     */
    public void closed(boolean statement, String name) {
        (statement ? statements : portals).remove(name);
    }

    private void change(InFlightRequest request, Map<String, String> names, String name, String value) {
        if (serverSkippingUntilSync) {
            return; // the server will discard the request: the name stays as it is
        }
        String previous = value == null ? names.remove(name) : names.put(name, value);
        if (!Objects.equals(previous, value)) {
            changes.addLast(new Change(request, names, name, previous));
        }
    }

    /** The request that answered successfully no longer needs its change taken back. */
    private InFlightRequest confirmed(InFlightRequest request) {
        Change oldest = changes.peekFirst();
        if (oldest != null && oldest.request() == request) {
            changes.removeFirst();
        }
        return request;
    }

    public Optional<String> statementSql(String name) {
        return Optional.ofNullable(statements.get(name));
    }

    public Optional<String> portalSql(String name) {
        return Optional.ofNullable(portals.get(name));
    }

    public boolean isEmpty() {
        return queue.isEmpty();
    }

    public int size() {
        return queue.size();
    }

    public Optional<InFlightRequest> head() {
        return Optional.ofNullable(queue.peekFirst());
    }

    /**
     * Matches one server reply (by type byte) to the request it answers and advances the queue.
     * Returns the request, or empty for asynchronous messages (NoticeResponse,
     * NotificationResponse, ParameterStatus) and errors that belong to no request.
     */
    public Optional<InFlightRequest> attribute(char type) {
        return Optional.ofNullable(answering(type));
    }

    /**
     * {@link #attribute}, with null for a reply that answers no request: the relay asks this for
     * every server message, so it does without the Optional.
     */
    public InFlightRequest answering(char type) {
        InFlightRequest head = queue.peekFirst();
        switch (type) {
            case 'A': // NotificationResponse
            case 'N': // NoticeResponse
            case 'S': // ParameterStatus
                return null;
            case '1': // ParseComplete
                return confirmed(popExpecting(type, Kind.PARSE));
            case '2': // BindComplete
                return confirmed(popExpecting(type, Kind.BIND));
            case '3': // CloseComplete
                return confirmed(popExpecting(type, Kind.CLOSE));
            case 't': // ParameterDescription, followed by RowDescription or NoData
                return expect(type, head, Kind.DESCRIBE_STATEMENT);
            case 'n': // NoData
                return popExpecting(type, Kind.DESCRIBE_STATEMENT, Kind.DESCRIBE_PORTAL);
            case 'T': // RowDescription
                if (head != null && head.kind() == Kind.SIMPLE_QUERY) {
                    return head;
                }
                return popExpecting(type, Kind.DESCRIBE_STATEMENT, Kind.DESCRIBE_PORTAL);
            case 'D': // DataRow
            case 'G': // CopyInResponse
            case 'H': // CopyOutResponse
            case 'W': // CopyBothResponse
            case 'd': // CopyData
            case 'c': // CopyDone
                return expect(type, head, Kind.SIMPLE_QUERY, Kind.EXECUTE);
            case 'C': // CommandComplete
            case 'I': // EmptyQueryResponse
                if (head != null && head.kind() == Kind.SIMPLE_QUERY) {
                    return head;
                }
                return popExpecting(type, Kind.EXECUTE);
            case 's': // PortalSuspended
                return popExpecting(type, Kind.EXECUTE);
            case 'V': // FunctionCallResponse
                return expect(type, head, Kind.FUNCTION_CALL);
            case 'E': // ErrorResponse
                return error(head);
            case 'Z': // ReadyForQuery
                return readyForQuery(type, head);
            default:
                throw mismatch(type, head);
        }
    }

    private InFlightRequest error(InFlightRequest head) {
        if (head == null) {
            // Not an answer to anything: a FATAL the server sends on its own (shutdown, termination).
            return null;
        }
        if (head.kind().endsWithReadyForQuery()) {
            // ReadyForQuery follows and ends the request.
            return head;
        }
        queue.removeFirst();
        List<Change> undone = new ArrayList<>();
        takeChange(head, undone);
        // The server now ignores every message up to the next Sync.
        Iterator<InFlightRequest> it = queue.iterator();
        boolean syncQueued = false;
        while (it.hasNext()) {
            InFlightRequest discarded = it.next();
            if (discarded.kind() == Kind.SYNC) {
                syncQueued = true;
                break;
            }
            takeChange(discarded, undone);
            it.remove();
        }
        serverSkippingUntilSync = !syncQueued;
        // Newest first, so that each name ends as it was before the failed request.
        for (int i = undone.size() - 1; i >= 0; i--) {
            undone.get(i).takeBack();
        }
        if (head.name().isEmpty() && (head.kind() == Kind.PARSE || head.kind() == Kind.BIND)) {
            // PostgreSQL drops the unnamed statement (or portal) as a Parse (or Bind) of it
            // begins, so after a failed one there is none: not the previous one.
            (head.kind() == Kind.PARSE ? statements : portals).remove("");
        }
        return head;
    }

    private void takeChange(InFlightRequest request, List<Change> undone) {
        Change oldest = changes.peekFirst();
        if (oldest != null && oldest.request() == request) {
            undone.add(changes.removeFirst());
        }
    }

    private InFlightRequest readyForQuery(char type, InFlightRequest head) {
        if (head == null || !head.kind().endsWithReadyForQuery()) {
            throw mismatch(type, head);
        }
        queue.removeFirst();
        return head;
    }

    // Two kinds at most and no varargs: these run for every server message, and an array per
    // message is garbage the relay does not need.
    private InFlightRequest popExpecting(char type, Kind kind) {
        return popExpecting(type, kind, kind);
    }

    private InFlightRequest popExpecting(char type, Kind kind, Kind orKind) {
        expect(type, queue.peekFirst(), kind, orKind);
        return queue.removeFirst();
    }

    private static InFlightRequest expect(char type, InFlightRequest head, Kind kind) {
        return expect(type, head, kind, kind);
    }

    private static InFlightRequest expect(char type, InFlightRequest head, Kind kind, Kind orKind) {
        if (head != null && (head.kind() == kind || head.kind() == orKind)) {
            return head;
        }
        throw mismatch(type, head);
    }

    private static ProtocolException mismatch(char type, InFlightRequest head) {
        return new ProtocolException(SqlState.PROTOCOL_VIOLATION, "server message '" + type
                + "' does not answer the request in flight (" + (head == null ? "none" : head.kind()) + ")");
    }

    /** One name change made when {@code request} was sent, and how to take it back. */
    private record Change(InFlightRequest request, Map<String, String> names, String name, String previous) {
        void takeBack() {
            if (previous == null) {
                names.remove(name);
            } else {
                names.put(name, previous);
            }
        }
    }
}
