package dev.pgpolicy.proxy.session;

import dev.pgpolicy.proxy.wire.Authentication;
import dev.pgpolicy.proxy.wire.BackendKeyData;
import dev.pgpolicy.proxy.wire.BackendMessage;
import dev.pgpolicy.proxy.wire.BackendMessages;
import dev.pgpolicy.proxy.wire.ErrorResponse;
import dev.pgpolicy.proxy.wire.FrameDecoder;
import dev.pgpolicy.proxy.wire.FrontendMessage;
import dev.pgpolicy.proxy.wire.NoticeResponse;
import dev.pgpolicy.proxy.wire.ParameterStatus;
import dev.pgpolicy.proxy.wire.ProtocolException;
import dev.pgpolicy.proxy.wire.Query;
import dev.pgpolicy.proxy.wire.RawFrame;
import dev.pgpolicy.proxy.wire.ReadyForQuery;
import dev.pgpolicy.proxy.wire.SqlState;
import dev.pgpolicy.proxy.wire.StartupMessage;
import dev.pgpolicy.proxy.wire.Terminate;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.StringJoiner;

/**
 * One server connection of the {@link UpstreamPool}, and the pool's handler on it while no session
 * owns it. A session that leases it puts its own handler in this one's place ({@link #handTo}); the
 * pool puts this one back when the session ends ({@link #takeBack}). Everything runs on the
 * connection's event loop.
 *
 * <pre>
 *   OPENING ─ StartupMessage, service-account login, ParameterStatus, BackendKeyData, ReadyForQuery ─► HELD
 *   HELD ─ run(queries) ─► RUNNING ─ last ReadyForQuery ─► HELD       (settings of a lease, the reset query)
 *   HELD ─ handTo(session) ─► LEASED ─ takeBack() ─► HELD
 *   HELD ─ idle(onLost) ─► IDLE ─ leave the idle list ─► HELD
 *   any ─ channel closed ─► CLOSED
 * </pre>
 *
 * Sharable because the same instance goes back into the pipeline of its one channel each time
 * the pool takes the connection back; it is never in two pipelines.
 */
@ChannelHandler.Sharable
final class PooledBackend extends ChannelInboundHandlerAdapter {

    enum State { OPENING, HELD, RUNNING, LEASED, IDLE, CLOSED }

    /** The server answered with an ErrorResponse: at login (FATAL, relayed to the client) or to a lease's settings. */
    static final class ServerRefused extends RuntimeException {
        private static final long serialVersionUID = 1L;

        private final transient ErrorResponse error;
        private final boolean atLogin;

        ServerRefused(ErrorResponse error, boolean atLogin) {
            super(error.code() + " " + error.message());
            this.error = error;
            this.atLogin = atLogin;
        }

        ErrorResponse error() {
            return error;
        }

        boolean atLogin() {
            return atLogin;
        }
    }

    private static final String HANDLER_NAME = "backend";

    private final PoolKey key;
    private final long openedNanos = System.nanoTime();
    /** The server's ParameterStatus values, as last reported: what a session's client is told at its start. */
    private final Map<String, String> parameters = new LinkedHashMap<>();
    private final BackendSettings startupSettings = new BackendSettings();
    private Channel channel;
    private CancelKeys.UpstreamKey cancelKey;
    private State state = State.OPENING;
    private UpstreamLogin login;
    private Promise<Void> pending;
    private ErrorResponse firstError;
    private int readiesAwaited;
    private long idleSinceNanos;
    private Runnable onLost;
    private int leases;

    private PooledBackend(PoolKey key) {
        this.key = key;
    }

    /**
     * Opens a connection for {@code key} and logs in as its service account; {@code opened} succeeds
     * at the server's first ReadyForQuery (state HELD), or fails with {@link ServerRefused} or the
     * connection's failure.
     */
    static PooledBackend open(UpstreamConnector connector, EventLoop loop, PoolKey key, boolean upstreamEncrypted,
            Promise<Void> opened) {
        PooledBackend backend = new PooledBackend(key);
        backend.pending = opened;
        // Both callbacks go through the loop's queue, so they run after connect() returned the channel.
        backend.channel = connector.connect(loop,
                () -> loop.execute(() -> backend.sendStartup(upstreamEncrypted)),
                cause -> loop.execute(() -> backend.broken(cause)),
                new WriteCoalescer(), new FrameDecoder(), backend);
        return backend;
    }

    PoolKey key() {
        return key;
    }

    Channel channel() {
        return channel;
    }

    State state() {
        return state;
    }

    /** The server's cancel key for this backend; empty if the server sent none. */
    Optional<CancelKeys.UpstreamKey> cancelKey() {
        return Optional.ofNullable(cancelKey);
    }

    Map<String, String> parameters() {
        return Collections.unmodifiableMap(parameters);
    }

    long openedNanos() {
        return openedNanos;
    }

    long idleSinceNanos() {
        return idleSinceNanos;
    }

    /** How many sessions have had this connection so far. */
    int leases() {
        return leases;
    }

    private void sendStartup(boolean upstreamEncrypted) {
        if (state != State.OPENING || !channel.isActive()) {
            return;
        }
        login = new UpstreamLogin(key.account(), UpstreamConnector.serverCertificateBinding(channel), upstreamEncrypted);
        channel.writeAndFlush(new StartupMessage(StartupMessage.PROTOCOL_3_0, key.startupParameters())
                .encode(channel.alloc()));
    }

    /**
     * Sends {@code queries} as simple Query messages, all at once; the result succeeds once the
     * last ReadyForQuery says the backend is idle outside a transaction. It fails with {@link
     * ServerRefused} when a query raised an error (the backend is still usable: the failed
     * statement rolled back), and with a {@link SessionException} when the connection broke or a
     * query left a transaction open.
     */
    Future<Void> run(List<String> queries) {
        requireState(State.HELD);
        state = State.RUNNING;
        firstError = null;
        readiesAwaited = queries.size();
        pending = channel.eventLoop().newPromise();
        for (String sql : queries) {
            channel.write(new Query(sql).encode(channel.alloc()));
        }
        channel.flush();
        return pending;
    }

    /** Gives the connection to a session: {@code sessionHandler} takes this handler's place. */
    void handTo(ChannelHandler sessionHandler) {
        requireState(State.HELD);
        state = State.LEASED;
        leases++;
        channel.pipeline().replace(this, HANDLER_NAME, sessionHandler);
    }

    /** The session is done with the connection: this handler takes the session's handler's place again. */
    void takeBack() {
        requireState(State.LEASED);
        state = State.HELD;
        channel.pipeline().replace(channel.pipeline().last(), HANDLER_NAME, this);
        // The session may have stopped reading the server while its client was slow.
        channel.config().setAutoRead(true);
    }

    /** In the idle list: {@code onLost} runs if the server ends the connection meanwhile. */
    void idle(Runnable lost) {
        requireState(State.HELD);
        state = State.IDLE;
        idleSinceNanos = System.nanoTime();
        onLost = lost;
    }

    /** Out of the idle list, for a lease or to be closed. */
    void leaveIdle() {
        requireState(State.IDLE);
        state = State.HELD;
        onLost = null;
    }

    /** Ends the connection the way a client does (Terminate, then close); the pool has already forgotten it. */
    void close() {
        onLost = null;
        if (state == State.CLOSED) {
            return;
        }
        state = State.CLOSED;
        if (channel.isActive()) {
            channel.writeAndFlush(Terminate.INSTANCE.encode(channel.alloc())).addListener(ChannelFutureListener.CLOSE);
        } else {
            channel.close();
        }
    }

    // ---------------------------------------------------------------- channel events

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof RawFrame frame)) {
            ReferenceCountUtil.release(msg);
            broken(new AssertionError("unexpected upstream pipeline message " + msg.getClass()));
            return;
        }
        try {
            switch (state) {
                case OPENING:
                    onLoginFrame(frame);
                    return;
                case RUNNING:
                    onQueryReply(frame);
                    return;
                case IDLE:
                    onIdleFrame(frame);
                    return;
                case HELD:
                    throw violation("sent " + BackendMessages.name(frame.type()) + " unasked");
                case LEASED:
                case CLOSED:
                    return; // a frame already decoded when the connection changed hands or closed
            }
            throw new AssertionError(state);
        } catch (RuntimeException | AssertionError e) {
            broken(e);
        } finally {
            frame.release();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        Runnable lost = onLost;
        onLost = null;
        State before = state;
        state = State.CLOSED;
        failPending(new SessionException(SqlState.CONNECTION_FAILURE,
                "the upstream server closed the connection unexpectedly"));
        if (lost != null && before == State.IDLE) {
            lost.run();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        broken(cause);
    }

    private void onLoginFrame(RawFrame frame) {
        if (login == null) {
            throw violation("sent " + BackendMessages.name(frame.type()) + " before the startup packet");
        }
        BackendMessage message = BackendMessages.decode(frame);
        if (message instanceof ErrorResponse error) {
            throw new ServerRefused(error, true);
        }
        if (message instanceof NoticeResponse) {
            return;
        }
        if (!login.done()) {
            if (!(message instanceof Authentication request)) {
                throw violation("sent " + BackendMessages.name(frame.type()) + " during authentication");
            }
            Optional<FrontendMessage> answer = login.onServer(request);
            answer.ifPresent(a -> channel.writeAndFlush(a.encode(channel.alloc())));
            if (login.done()) {
                login.close();
            }
            return;
        }
        if (message instanceof ParameterStatus status) {
            parameters.put(status.name(), status.value());
        } else if (message instanceof BackendKeyData keyData) {
            if (cancelKey != null) {
                throw violation("sent BackendKeyData twice");
            }
            cancelKey = new CancelKeys.UpstreamKey(keyData.processId(), keyData.secretKey());
        } else if (message instanceof ReadyForQuery ready) {
            if (ready.status().code() != 'I') {
                throw violation("began the session inside a transaction");
            }
            state = State.HELD;
            startupSettings.loggedIn(parameters);
            completePending();
        } else {
            throw violation("sent " + BackendMessages.name(frame.type()) + " before the session was ready");
        }
    }

    private void onQueryReply(RawFrame frame) {
        switch (frame.type()) {
            case ParameterStatus.TYPE: {
                ParameterStatus status = (ParameterStatus) BackendMessages.decode(frame);
                parameters.put(status.name(), status.value());
                return;
            }
            case ErrorResponse.TYPE: {
                ErrorResponse error = (ErrorResponse) BackendMessages.decode(frame);
                if (error.isFatal()) {
                    throw new SessionException(SqlState.CONNECTION_FAILURE,
                            "the upstream server ended the connection: " + error.code() + " " + error.message());
                }
                if (firstError == null) {
                    firstError = error;
                }
                return;
            }
            case ReadyForQuery.TYPE: {
                ReadyForQuery ready = (ReadyForQuery) BackendMessages.decode(frame);
                if (--readiesAwaited > 0) {
                    return;
                }
                state = State.HELD;
                if (firstError != null) {
                    Promise<Void> done = pending;
                    pending = null;
                    done.tryFailure(new ServerRefused(firstError, false));
                } else if (ready.status().code() != 'I') {
                    throw new SessionException(SqlState.INVALID_TRANSACTION_STATE,
                            "the query left a transaction open (transaction status " + (char) ready.status().code() + ")");
                } else {
                    completePending();
                }
                return;
            }
            case 'T': // RowDescription, DataRow, CommandComplete, EmptyQueryResponse of the query itself
            case 'D':
            case 'C':
            case 'I':
            case NoticeResponse.TYPE:
            case 'A': // NotificationResponse of a LISTEN the last session left, before the reset's UNLISTEN
                return;
            default:
                // CopyInResponse and the like: a reset query must not start a COPY.
                throw violation("sent " + BackendMessages.name(frame.type()) + " in reply to the pool's query");
        }
    }

    private void onIdleFrame(RawFrame frame) {
        switch (frame.type()) {
            case ParameterStatus.TYPE: {
                ParameterStatus status = (ParameterStatus) BackendMessages.decode(frame);
                parameters.put(status.name(), status.value());
                return;
            }
            case NoticeResponse.TYPE:
            case 'A':
                return;
            default:
                // Typically FATAL 57P01 from pg_terminate_backend or a server shutdown: the connection is done.
                throw new SessionException(SqlState.CONNECTION_FAILURE, "the idle upstream connection received "
                        + BackendMessages.name(frame.type()) + describeError(frame));
        }
    }

    private static String describeError(RawFrame frame) {
        if (frame.type() != ErrorResponse.TYPE) {
            return "";
        }
        ErrorResponse error = (ErrorResponse) BackendMessages.decode(frame);
        return ": " + error.code() + " " + error.message();
    }

    /** The connection cannot be used any more: fails what waits for it and closes it. */
    private void broken(Throwable cause) {
        Runnable lost = state == State.IDLE ? onLost : null;
        failPending(cause);
        close();
        if (lost != null) {
            lost.run();
        }
    }

    private void completePending() {
        Promise<Void> done = pending;
        pending = null;
        if (done != null) {
            done.trySuccess(null);
        }
    }

    private void failPending(Throwable cause) {
        Promise<Void> done = pending;
        pending = null;
        if (done != null) {
            done.tryFailure(cause);
        }
        if (login != null) {
            login.close(); // wipes the SCRAM client's keys if the login was cut short
        }
    }

    private void requireState(State expected) {
        if (state != expected) {
            throw new IllegalStateException("pooled upstream connection is " + state + ", not " + expected);
        }
    }

    private static ProtocolException violation(String what) {
        return new ProtocolException(SqlState.PROTOCOL_VIOLATION, "the upstream server " + what);
    }

    /**
     * The queries that give this backend exactly the client's startup settings over the server's
     * defaults; none when it already has them ({@link BackendSettings}).
     */
    List<String> leaseQueries(Map<String, String> requested) {
        return settingsQueries(startupSettings.changesFor(parameters, requested));
    }

    /** The lease succeeded with {@code requested} in effect. */
    void leased(Map<String, String> requested) {
        startupSettings.leased(parameters, requested);
    }

    /**
     * The reset query, then the last session's reported settings applied again in the same
     * flush, so that the next session with the same values needs no query of its own. Text that is
     * not ASCII would need the client_encoding dance of {@link #settingsQueries}; such settings are
     * left to the next lease instead.
     */
    List<String> releaseQueries(String resetQuery) {
        Map<String, String> kept = startupSettings.kept();
        boolean ascii = kept.entrySet().stream().allMatch(e -> isAscii(e.getKey()) && isAscii(e.getValue()));
        if (kept.isEmpty() || !ascii) {
            return List.of(resetQuery);
        }
        List<String> queries = new ArrayList<>();
        queries.add(resetQuery);
        queries.addAll(settingsQueries(kept));
        return queries;
    }

    /**
     * The queries that give a leased backend the client's startup settings; a null value resets
     * the setting to its default ({@code set_config} with a NULL value is RESET). {@code set_config}
     * takes the value as the StartupMessage would (a list such as {@code search_path} stays a
     * list), and E'' literals mean the same whatever {@code standard_conforming_strings} is. The
     * server converts a Query from the backend's client_encoding as it reads it, so text that is
     * not ASCII goes after a separate switch to UTF8, the encoding the proxy speaks, and the
     * client's (or the default) encoding is set again in the same statement as the rest.
     */
    private List<String> settingsQueries(Map<String, String> settings) {
        if (settings.isEmpty()) {
            return List.of();
        }
        Map<String, String> applied = new LinkedHashMap<>(settings);
        boolean ascii = applied.entrySet().stream().allMatch(e -> isAscii(e.getKey())
                && (e.getValue() == null || isAscii(e.getValue())));
        String current = parameters.getOrDefault("client_encoding", "");
        boolean switchToUtf8 = !ascii && !current.equalsIgnoreCase("UTF8");
        if (switchToUtf8 && applied.keySet().stream().noneMatch(name -> name.equalsIgnoreCase("client_encoding"))) {
            applied.put("client_encoding", current);
        }
        StringJoiner select = new StringJoiner(", ", "SELECT ", "");
        applied.forEach((name, value) ->
                select.add("pg_catalog.set_config(" + literal(name) + ", " + (value == null ? "NULL" : literal(value))
                        + ", false)"));
        return switchToUtf8 ? List.of("SET client_encoding TO 'UTF8'", select.toString()) : List.of(select.toString());
    }

    private static boolean isAscii(String text) {
        return text.chars().allMatch(c -> c < 0x80);
    }

    /** An escape string constant: backslash and quote escaped, valid whatever standard_conforming_strings says. */
    static String literal(String text) {
        StringBuilder out = new StringBuilder(text.length() + 4).append("E'");
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\\' || c == '\'') {
                out.append(c);
            }
            out.append(c);
        }
        return out.append('\'').toString();
    }

    @Override
    public String toString() {
        return "PooledBackend[" + key + ", pid=" + (cancelKey == null ? "?" : cancelKey.processId()) + ", " + state + "]";
    }
}
