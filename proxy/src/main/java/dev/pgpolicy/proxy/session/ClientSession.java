package dev.pgpolicy.proxy.session;

import dev.pgpolicy.proxy.identity.CertificateIdentity;
import dev.pgpolicy.proxy.identity.LoginThrottle;
import dev.pgpolicy.proxy.identity.UpstreamAccount;
import dev.pgpolicy.proxy.identity.UserEntry;
import dev.pgpolicy.proxy.scram.ChannelBinding;
import dev.pgpolicy.proxy.scram.ScramServer;
import dev.pgpolicy.proxy.server.ProxyConfig;
import dev.pgpolicy.proxy.session.InFlightRequest.Kind;
import dev.pgpolicy.proxy.wire.Authentication;
import dev.pgpolicy.proxy.wire.AuthenticationOk;
import dev.pgpolicy.proxy.wire.AuthenticationSASLFinal;
import dev.pgpolicy.proxy.wire.BackendKeyData;
import dev.pgpolicy.proxy.wire.BackendMessage;
import dev.pgpolicy.proxy.wire.BackendMessages;
import dev.pgpolicy.proxy.wire.Bind;
import dev.pgpolicy.proxy.wire.CancelRequest;
import dev.pgpolicy.proxy.wire.Close;
import dev.pgpolicy.proxy.wire.CopyFail;
import dev.pgpolicy.proxy.wire.CommandComplete;
import dev.pgpolicy.proxy.wire.CopyData;
import dev.pgpolicy.proxy.wire.CopyOutResponse;
import dev.pgpolicy.proxy.wire.DataRow;
import dev.pgpolicy.proxy.wire.DataRowRun;
import dev.pgpolicy.proxy.wire.Describe;
import dev.pgpolicy.proxy.wire.ErrorResponse;
import dev.pgpolicy.proxy.wire.Execute;
import dev.pgpolicy.proxy.wire.FrameDecoder;
import dev.pgpolicy.proxy.wire.FrontendMessage;
import dev.pgpolicy.proxy.wire.FrontendMessages;
import dev.pgpolicy.proxy.wire.FunctionCall;
import dev.pgpolicy.proxy.wire.GSSENCRequest;
import dev.pgpolicy.proxy.wire.NegotiateProtocolVersion;
import dev.pgpolicy.proxy.wire.NoticeResponse;
import dev.pgpolicy.proxy.wire.ParameterStatus;
import dev.pgpolicy.proxy.wire.Parse;
import dev.pgpolicy.proxy.wire.ProtocolException;
import dev.pgpolicy.proxy.wire.Query;
import dev.pgpolicy.proxy.wire.RawFrame;
import dev.pgpolicy.proxy.wire.ReadyForQuery;
import dev.pgpolicy.proxy.wire.RowDescription;
import dev.pgpolicy.proxy.wire.SSLRequest;
import dev.pgpolicy.proxy.wire.SqlState;
import dev.pgpolicy.proxy.wire.StartupDecoder;
import dev.pgpolicy.proxy.wire.StartupMessage;
import dev.pgpolicy.proxy.wire.StartupPacket;
import dev.pgpolicy.proxy.wire.TargetKind;
import dev.pgpolicy.proxy.wire.WireMessage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection and the upstream connection made for it. All state lives on the client
 * channel's event loop (the upstream channel shares it), so nothing here is locked.
 *
 * <pre>
 *  client                         proxy                                  server
 *    │ SSLRequest                   │                                       │
 *    │◄──────────────── 'S' ────────┤ (TLS 1.2+ handshake)                  │
 *    │ StartupMessage (3.x) ───────►│ connect, [SSLRequest, TLS] ──────────►│
 *    │◄─ NegotiateProtocolVersion ──┤ (only when the client asked for 3.x>0)│
 *    │                              │ StartupMessage 3.0, same parameters ─►│
 *    │◄─ AuthenticationSASL ────────┤◄── minus SCRAM-SHA-256-PLUS ──────────┤
 *    │ SASLInitialResponse ... ────►│──────────────────────────────────────►│
 *    │◄─ AuthenticationOk, ParameterStatus ... ◄───────────────────────────┤
 *    │◄─ BackendKeyData (proxy-issued) ◄── BackendKeyData (kept for cancel) ┤
 *    │◄─ ReadyForQuery ─────────────┤◄──────────────────────────────────────┤  READY
 *    │ Query / Parse / Bind ... ───►│ hooks ─► forward | rewrite | deny ───►│
 *    │◄─ results, attributed to the in-flight request ◄───────────────────┤
 * </pre>
 *
 * Frames the session does not need to understand pass as the same buffers they arrived in.
 * Backpressure runs both ways: when one side's outbound buffer is over its high-water mark, the
 * other side stops reading until it drains.
 */
public final class ClientSession extends ChannelInboundHandlerAdapter implements SessionInfo {

    private static final Logger LOG = LoggerFactory.getLogger(ClientSession.class);

    private static final String TRAFFIC = "traffic";
    private static final String TLS = "tls";
    private static final String COALESCER = "coalescer";
    private static final String STARTUP_DECODER = "startup";
    private static final String FRAME_DECODER = "frames";
    private static final String SESSION = "session";

    /**
     * Sent upstream in place of a denied statement, so that the server fails it (and any open
     * transaction block) itself; the client sees the hook's error instead of this one. It needs
     * PL/pgSQL, which every database has unless an administrator dropped it; without it the
     * server still fails the statement (with its own error, relayed verbatim), so nothing runs.
     */
    private static final String DENIED_STATEMENT_TEMPLATE =
            "DO $pgpolicy_denied$BEGIN RAISE EXCEPTION USING ERRCODE = '%s'; END$pgpolicy_denied$";

    /**
     * PostgreSQL's client-only encodings: multibyte encodings whose trailing bytes include ASCII
     * values (PostgreSQL docs, "Character Set Support"; the server refuses them as server
     * encodings for the same reason). Statement text must mean the same to the proxy and the server.
     */
    private static final Set<String> UNSAFE_CLIENT_ENCODINGS =
            Set.of("BIG5", "GB18030", "GBK", "JOHAB", "SJIS", "SHIFT_JIS_2004", "UHC");

    private final SessionEnvironment environment;
    private final SocketChannel client;
    private final TrafficCounter traffic;
    private final String id;
    private final SessionAttachments attachments = new SessionAttachments();
    private final long openedNanos = System.nanoTime();
    private final Instant openedAt = Instant.now();
    private final InFlightRequests inFlight = new InFlightRequests();
    private final PassthroughAuthentication authentication = new PassthroughAuthentication();
    private final UpstreamConnector connector;
    /** {@code auth.mode: proxy}: the client's SCRAM exchange with the proxy; null in passthrough. */
    private ClientLogin clientLogin;
    /** {@code auth.mode: proxy}: the proxy's login upstream as the mapped service account. */
    private UpstreamLogin upstreamLogin;
    private UserEntry proxyUser;
    private UpstreamAccount serviceAccount;
    /** {@code auth.mode: proxy}: the StartupMessage parameters for the server, until the client authenticated. */
    private Map<String, String> pendingUpstreamParameters;
    /** {@code upstream.pool}: the leased server connection behind {@link #upstream}; null when it is the session's own. */
    private PooledBackend pooledBackend;

    private Phase phase = Phase.STARTUP;
    private ScheduledFuture<?> handshakeDeadline;
    private Channel upstream;
    private boolean holdsSessionSlot;
    private boolean tls;
    /** The client certificate the TLS handshake verified against {@code tls.client_ca}, if one was presented. */
    private X509Certificate clientCertificate;
    private String user;
    private String database;
    private String applicationName;
    /**
     * The Optionals the SessionInfo accessors return, reused while they hold the current value:
     * policy and audit read these several times per statement, and a new Optional per call was
     * about a tenth of the bytes the event loops allocated.
     */
    private final HeldOptional heldUser = new HeldOptional();
    private final HeldOptional heldDbUser = new HeldOptional();
    private final HeldOptional heldDatabase = new HeldOptional();
    private final HeldOptional heldApplicationName = new HeldOptional();
    private final HeldOptional heldAuthMethod = new HeldOptional();
    private CancelKeys.Key cancelKey;
    private Map<String, String> startupParameters = Map.of();
    private final Map<String, String> serverParameters = new java.util.concurrent.ConcurrentHashMap<>();
    private char transactionStatus = 'I';
    /** The frame whose hook decision is pending, if any; later client frames wait in {@link #heldFrames}. */
    private RawFrame awaitingDecision;
    private final ArrayDeque<RawFrame> heldFrames = new ArrayDeque<>();
    private RowFilter rowFilter = RowFilter.UNCHANGED;
    private InFlightRequest rowFilterOwner;
    /**
     * Row filters of portals an Execute left suspended, by portal name: the next Execute of the
     * portal goes on counting where the last one stopped, so fetching in batches does not reset
     * a row limit. Dropped when the name is bound again and when the transaction ends.
     */
    private final Map<String, RowFilter> suspendedPortalFilters = new HashMap<>();
    /** The statement a row limit cut off, until the ReadyForQuery that ends it; null otherwise. */
    private RowLimitCutoff cutoff;
    /** Rewrites the CopyData of the COPY TO STDOUT in progress; UNCHANGED relays the frames as they are. */
    private CopyFilter copyFilter = CopyFilter.UNCHANGED;
    private boolean clientTerminated;
    /** The server's FATAL (or PANIC) error that ends the session, for the close log line and the audit record. */
    private ErrorResponse upstreamFatal;
    private boolean closeLogged;
    /** The hooks accepted the session ({@link SessionHooks#onSessionReady}) and must hear of its end. */
    private boolean announcedReady;
    private long readySinceNanos = System.nanoTime();
    // What the connection amounted to, for SessionListener.closed (metrics, audit).
    private boolean startupSeen;
    private boolean cancelRequest;
    private boolean refused;
    private boolean authenticationFailed;
    private boolean authenticationReported;
    private boolean reachedReady;
    private long upstreamConnectStartedNanos;
    private String closeReason;

    private ClientSession(SessionEnvironment environment, SocketChannel client, TrafficCounter traffic) {
        this.environment = environment;
        this.client = client;
        this.traffic = traffic;
        this.id = environment.randomId(4);
        this.connector = new UpstreamConnector(environment);
    }

    /** Sets up a freshly accepted client channel. */
    public static void install(SocketChannel channel, SessionEnvironment environment) {
        TrafficCounter traffic = new TrafficCounter();
        channel.pipeline()
                .addLast(TRAFFIC, traffic)
                // Tail side of TLS (inserted after TRAFFIC), so TLS too sees whole runs of frames.
                .addLast(COALESCER, new WriteCoalescer())
                .addLast(STARTUP_DECODER, new StartupDecoder())
                .addLast(FRAME_DECODER, new FrameDecoder(FrameDecoder.MAX_FRAME_LENGTH_BEFORE_AUTHENTICATION))
                .addLast(SESSION, new ClientSession(environment, channel, traffic));
    }

    // ---------------------------------------------------------------- SessionInfo

    @Override
    public String id() {
        return id;
    }

    @Override
    public SessionAttachments attachments() {
        return attachments;
    }

    @Override
    public InetSocketAddress clientAddress() {
        return client.remoteAddress();
    }

    @Override
    public Optional<String> user() {
        return heldUser.of(user);
    }

    @Override
    public Optional<String> dbUser() {
        if (clientLogin == null) {
            return user();
        }
        return heldDbUser.of(serviceAccount == null ? null : serviceAccount.user());
    }

    @Override
    public List<String> groups() {
        return proxyUser == null ? List.of() : proxyUser.groups();
    }

    @Override
    public Optional<String> database() {
        return heldDatabase.of(database);
    }

    @Override
    public Optional<String> applicationName() {
        return heldApplicationName.of(applicationName);
    }

    @Override
    public boolean tls() {
        return tls;
    }

    @Override
    public Optional<String> certCn() {
        return clientCertificate == null ? Optional.empty() : CertificateIdentity.commonName(clientCertificate);
    }

    @Override
    public Optional<String> authMethod() {
        String method;
        if (clientLogin != null) {
            method = proxyUser == null ? null : clientLogin.method();
        } else {
            method = authentication.methodOrNull();
        }
        return heldAuthMethod.of(method);
    }

    @Override
    public Phase phase() {
        return phase;
    }

    @Override
    public char transactionStatus() {
        return transactionStatus;
    }

    @Override
    public void execute(Runnable task) {
        client.eventLoop().execute(task);
    }

    @Override
    public long idleSinceNanos() {
        if (phase != Phase.READY || !inFlight.isEmpty() || awaitingDecision != null || !heldFrames.isEmpty()) {
            return -1;
        }
        return readySinceNanos;
    }

    @Override
    public long lastReadyNanos() {
        return readySinceNanos;
    }

    @Override
    public void cancelRunningStatement() {
        if (cancelKey != null && phase == Phase.READY) {
            environment.cancelKeys().resolve(cancelKey.processId(), cancelKey.secretKey())
                    .ifPresent(key -> connector.cancel(client.eventLoop(), key, id));
        }
    }

    @Override
    public void terminate(ErrorResponse error) {
        if (phase != Phase.CLOSED) {
            LOG.info("session {}: terminated: {} {}", id, error.code(), error.message());
            closeWithError(error);
        }
    }

    @Override
    public Map<String, String> startupParameters() {
        return startupParameters;
    }

    @Override
    public Optional<String> serverParameter(String name) {
        return Optional.ofNullable(serverParameters.get(name));
    }

    /** {@code auth.mode: proxy}: the users-file name the client logs in (or logged in) as; empty in passthrough. */
    public Optional<String> proxyUserName() {
        return environment.users().isPresent() ? Optional.ofNullable(user) : Optional.empty();
    }

    /**
     * Ends the session because the users file no longer vouches for its user, with FATAL 57P01
     * as PostgreSQL's pg_terminate_backend; safe from any thread.
     */
    public void terminateForUsersFile(String reason) {
        client.eventLoop().execute(() -> {
            if (phase != Phase.CLOSED) {
                LOG.info("session {}: ending the session of {} from {}: {}", id, user, describe(clientAddress()), reason);
                closeWithError(ErrorResponse.fatal(SqlState.ADMIN_SHUTDOWN,
                        "terminating connection because " + reason));
            }
        });
    }

    /** Ends the session the way PostgreSQL's fast shutdown does; safe from any thread. */
    public void terminateForShutdown() {
        terminate("proxy shutdown");
    }

    /**
     * Ends the session as {@code pg_terminate_backend} ends a backend: FATAL 57P01 "terminating
     * connection due to administrator command" to the client, upstream closed. Safe from any thread.
     */
    public void terminateByAdministrator() {
        terminate("terminated by administrator");
    }

    /** A consistent view of the session, taken on its event loop. */
    public CompletableFuture<SessionSnapshot> snapshot() {
        CompletableFuture<SessionSnapshot> result = new CompletableFuture<>();
        Runnable take = () -> result.complete(new SessionSnapshot(id, user, database, applicationName,
                clientAddress(), tls, phase, transactionStatus, openedAt, traffic.bytesIn(), traffic.bytesOut()));
        if (client.eventLoop().inEventLoop()) {
            take.run();
        } else {
            try {
                client.eventLoop().execute(take);
            } catch (RuntimeException rejected) {
                result.completeExceptionally(rejected); // the event loop is shutting down
            }
        }
        return result;
    }

    private void terminate(String reason) {
        client.eventLoop().execute(() -> {
            if (phase != Phase.CLOSED) {
                if (closeReason == null) {
                    closeReason = reason;
                }
                closeWithError(ErrorResponse.fatal(SqlState.ADMIN_SHUTDOWN,
                        "terminating connection due to administrator command"));
            }
        });
    }

    // ---------------------------------------------------------------- client channel events

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        environment.sessions().add(this);
        long timeout = environment.config().handshakeTimeout().toMillis();
        handshakeDeadline = ctx.executor().schedule(this::handshakeDeadlinePassed, timeout, TimeUnit.MILLISECONDS);
        LOG.debug("session {}: connection from {}", id, clientAddress());
        ctx.read();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (phase == Phase.CLOSED) {
                ReferenceCountUtil.release(msg);
            } else if (msg instanceof RawFrame frame) {
                onClientFrame(frame);
            } else if (msg instanceof StartupPacket packet) {
                onStartupPacket(ctx, packet);
            } else {
                ReferenceCountUtil.release(msg);
                throw new AssertionError("unexpected pipeline message " + msg.getClass());
            }
        } catch (RuntimeException | AssertionError e) {
            fail(e);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (upstream != null) {
            upstream.flush();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        // The client drained what the server sent: let the server's data flow again.
        if (client.isWritable() && upstream != null && phase != Phase.CLOSED && (cutoff == null || !cutoff.holding())) {
            upstream.config().setAutoRead(true);
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        returnUpstreamToPool(); // a client that left without Terminate, between statements
        Phase before = phase;
        phase = Phase.CLOSED;
        if (upstream != null) {
            if (upstream.isActive()) {
                closeOnFlush(upstream);
            } else {
                upstream.close(); // also abandons a connection attempt still in progress
            }
        }
        if (handshakeDeadline != null) {
            handshakeDeadline.cancel(false);
        }
        if (cancelKey != null) {
            environment.cancelKeys().release(cancelKey);
            cancelKey = null;
        }
        if (holdsSessionSlot) {
            holdsSessionSlot = false;
            environment.releaseSessionSlot();
        }
        releaseHeldFrames();
        endCopyFilter();
        if (cutoff != null) {
            cutoff.release();
            cutoff = null;
        }
        if (announcedReady) {
            announcedReady = false;
            environment.hooks().onSessionClosed(this);
        }
        if (upstreamLogin != null) {
            upstreamLogin.close(); // wipes the SCRAM client's keys if the login was cut short
        }
        environment.sessions().remove(this);
        logClose(before);
    }

    private void releaseHeldFrames() {
        if (awaitingDecision != null) {
            awaitingDecision.release();
            awaitingDecision = null;
        }
        RawFrame held;
        while ((held = heldFrames.pollFirst()) != null) {
            held.release();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (ProtocolException.find(cause).isEmpty() && rootCause(cause) instanceof IOException) {
            // Reset connections and failed TLS records: the client is gone or cannot be talked to.
            LOG.info("session {}: connection from {} failed: {}", id, describe(clientAddress()),
                    UpstreamTlsNegotiator.rootMessage(cause));
            phase = Phase.CLOSED;
            if (upstream != null) {
                upstream.close();
            }
            client.close();
            return;
        }
        fail(cause);
    }

    private static Throwable rootCause(Throwable failure) {
        Throwable root = failure;
        while (root.getCause() != null && root.getCause() != root) {
            if (root instanceof IOException) {
                return root;
            }
            root = root.getCause();
        }
        return root;
    }

    // ---------------------------------------------------------------- startup

    private void onStartupPacket(ChannelHandlerContext ctx, StartupPacket packet) {
        if (phase != Phase.STARTUP) {
            throw new ProtocolException("unexpected startup packet in phase " + phase);
        }
        if (packet instanceof SSLRequest) {
            startTls(ctx);
        } else if (packet instanceof GSSENCRequest) {
            if (tls) {
                throw new ProtocolException("GSSENCRequest on an encrypted connection");
            }
            // GSSAPI encryption is not offered; the client may go on with SSLRequest or in plain text.
            ctx.writeAndFlush(ctx.alloc().buffer(1).writeByte('N'));
            ctx.read();
        } else if (packet instanceof CancelRequest cancel) {
            cancelRequest = true;
            closeReason = "cancel request";
            forwardCancel(cancel);
            phase = Phase.CLOSED;
            // As PostgreSQL: no answer to a cancel request, the connection just ends.
            ctx.close();
        } else if (packet instanceof StartupMessage startup) {
            onStartupMessage(ctx, startup);
        } else {
            throw new AssertionError(packet);
        }
    }

    private void startTls(ChannelHandlerContext ctx) {
        if (tls) {
            throw new ProtocolException("SSLRequest on an encrypted connection");
        }
        // 'S' must leave in plain text, before the SslHandler is in the pipeline.
        ctx.writeAndFlush(ctx.alloc().buffer(1).writeByte('S'));
        SslHandler handler = environment.clientFacingTls().newHandler(ctx.alloc());
        handler.setHandshakeTimeoutMillis(environment.config().handshakeTimeout().toMillis());
        ctx.pipeline().addAfter(TRAFFIC, TLS, handler);
        phase = Phase.TLS_HANDSHAKE;
        handler.handshakeFuture().addListener(done -> {
            if (phase != Phase.TLS_HANDSHAKE) {
                return;
            }
            if (done.isSuccess()) {
                tls = true;
                clientCertificate = peerCertificate(handler).orElse(null);
                phase = Phase.STARTUP;
                client.read();
            } else {
                LOG.info("session {}: TLS handshake with {} failed: {}", id, clientAddress(),
                        UpstreamTlsNegotiator.rootMessage(done.cause()));
                phase = Phase.CLOSED;
                client.close();
            }
        });
        ctx.read();
    }

    /** The peer's verified certificate; the SslHandler has checked it against the configured CA. */
    private static Optional<X509Certificate> peerCertificate(SslHandler handler) {
        try {
            Certificate[] chain = handler.engine().getSession().getPeerCertificates();
            return chain.length > 0 && chain[0] instanceof X509Certificate certificate
                    ? Optional.of(certificate) : Optional.empty();
        } catch (SSLPeerUnverifiedException e) {
            return Optional.empty(); // no certificate presented (requested, not required)
        }
    }

    private void onStartupMessage(ChannelHandlerContext ctx, StartupMessage startup) {
        ProxyConfig config = environment.config();
        user = startup.parameter("user").orElse(null);
        database = startup.parameter("database").filter(d -> !d.isEmpty()).orElse(user);
        applicationName = startup.parameter("application_name").orElse(null);
        startupParameters = Map.copyOf(startup.parameters());
        if (config.requireTls() && !tls) {
            refused = true;
            throw new SessionException(SqlState.INVALID_AUTHORIZATION_SPECIFICATION,
                    "pgpolicy requires TLS: connect with sslmode=require, verify-ca or verify-full");
        }
        if (user == null || user.isEmpty()) {
            throw new SessionException(SqlState.INVALID_AUTHORIZATION_SPECIFICATION,
                    "no PostgreSQL user name specified in startup packet");
        }
        if (startup.parameter("replication").filter(r -> !r.equalsIgnoreCase("false") && !r.equals("0")
                && !r.equalsIgnoreCase("off") && !r.equalsIgnoreCase("no")).isPresent()) {
            // Replication streams bypass statement-level policy; refuse rather than relay unchecked.
            throw new SessionException(SqlState.FEATURE_NOT_SUPPORTED,
                    "replication connections are not supported through pgpolicy");
        }
        startupSeen = true;
        environment.listener().opened(this);
        String refusal = environment.listener().refusal();
        if (refusal != null) {
            // PostgreSQL's code for "cannot accept connections now" (e.g. during start-up): the
            // client may retry later, and nothing was sent upstream.
            refused = true;
            throw new SessionException(SqlState.CANNOT_CONNECT_NOW, refusal);
        }
        if (!environment.tryAcquireSessionSlot()) {
            refused = true;
            throw new SessionException(SqlState.TOO_MANY_CONNECTIONS, "sorry, too many clients already");
        }
        holdsSessionSlot = true;

        // Protocol 3.2 and "_pq_." options are answered here, and the server is asked for plain 3.0,
        // so the client sees one NegotiateProtocolVersion, before authentication, as from PostgreSQL.
        Map<String, String> upstreamParameters = new LinkedHashMap<>();
        List<String> unrecognizedOptions = new ArrayList<>();
        startup.parameters().forEach((name, value) -> {
            if (name.startsWith("_pq_.")) {
                unrecognizedOptions.add(name);
            } else {
                upstreamParameters.put(name, value);
            }
        });
        if (startup.minorVersion() > 0 || !unrecognizedOptions.isEmpty()) {
            write(client, new NegotiateProtocolVersion(0, unrecognizedOptions));
        }
        if (config.authMode() == ProxyConfig.AuthMode.PROXY) {
            // The server must open the database the client asked for, which PostgreSQL defaults to
            // the client's user name: the proxy user's, not the service account's.
            upstreamParameters.put("database", database);
            pendingUpstreamParameters = upstreamParameters;
            throttleThenStartClientLogin();
        } else {
            StartupMessage upstreamStartup = new StartupMessage(StartupMessage.PROTOCOL_3_0, upstreamParameters);
            phase = Phase.CONNECTING;
            connectUpstream(upstreamStartup);
        }
        // From here on the client speaks typed frames. Bytes it already sent move to the frame
        // decoder now, and are a violation: nothing may follow the startup packet unasked.
        ctx.pipeline().remove(STARTUP_DECODER);
    }

    /**
     * {@code auth.mode: proxy}: asks the failed-login throttle first; a delay is a timer on the
     * event loop (the thread keeps serving other sessions), and meanwhile nothing is read from
     * the client.
     */
    private void throttleThenStartClientLogin() {
        LoginThrottle throttle = environment.loginThrottle().orElseThrow();
        LoginThrottle.Decision decision = throttle.check(clientAddress().getAddress(), user);
        if (decision instanceof LoginThrottle.Refuse refuse) {
            LOG.warn("session {}: login of user {} from {} refused by the failed-login throttle ({} locked for {})",
                    id, user, describe(clientAddress()), refuse.key(), refuse.retryAfter());
            // Which key is locked (address or user) stays in the log: it would tell a guesser too much.
            reportAuthentication(Optional.of("refused by the failed-login throttle"));
            throw new SessionException(SqlState.INVALID_AUTHORIZATION_SPECIFICATION,
                    "too many failed login attempts; try again in " + Math.max(1, refuse.retryAfter().toSeconds())
                            + " s");
        }
        if (!(decision instanceof LoginThrottle.Allow allow)) {
            throw new AssertionError(decision);
        }
        if (allow.delay().isZero()) {
            startClientLogin();
            return;
        }
        LOG.debug("session {}: login of user {} delayed {} by the failed-login throttle", id, user, allow.delay());
        // CONNECTING accepts no client frames, as nothing has been asked of the client yet.
        phase = Phase.CONNECTING;
        client.config().setAutoRead(false);
        client.eventLoop().schedule(() -> {
            if (phase != Phase.CONNECTING || clientLogin != null) {
                return; // the client left, or the handshake deadline ended the session
            }
            try {
                startClientLogin();
            } catch (RuntimeException e) {
                fail(e);
            }
        }, allow.delay().toNanos(), TimeUnit.NANOSECONDS);
    }

    /** {@code auth.mode: proxy}: the proxy, not the server, asks the client for its credentials. */
    private void startClientLogin() {
        // Only on TLS is there a certificate of the proxy's to bind to (RFC 5929 tls-server-end-point).
        Optional<ChannelBinding> binding = tls ? environment.ownCertificateBinding() : Optional.empty();
        clientLogin = ClientLogin.start(environment.users().orElseThrow(), environment.mockVerifiers(), user, binding,
                Optional.ofNullable(clientCertificate));
        phase = Phase.AUTHENTICATING;
        if (clientLogin.certificateOnly()) {
            clientAuthenticated(Optional.empty());
            return;
        }
        writeAndFlush(client, clientLogin.offer());
        client.config().setAutoRead(true);
    }

    private void onClientLoginAnswer(RawFrame frame) {
        if (clientLogin.finished()) {
            throw new ProtocolException("unexpected authentication response after the SASL exchange ended");
        }
        ScramServer.Outcome outcome = clientLogin.onClient(frame);
        if (outcome instanceof ScramServer.Challenge challenge) {
            writeAndFlush(client, challenge.message());
        } else if (outcome instanceof ScramServer.Failure failure) {
            LOG.info("session {}: authentication of user {} from {} failed ({}): {}", id, user,
                    describe(clientAddress()), failure.sqlState().code(), failure.message());
            environment.loginThrottle().orElseThrow().recordFailure(clientAddress().getAddress(), user);
            reportAuthentication(Optional.of(failure.message()));
            closeWithError(failure.toErrorResponse());
        } else if (outcome instanceof ScramServer.Success success) {
            clientAuthenticated(Optional.of(success.message()));
        } else {
            throw new AssertionError(outcome);
        }
    }

    /**
     * The client proved who it is (SCRAM, or its certificate alone); the proxy logs in upstream.
     * RFC 5802: the server-final-message goes out now; AuthenticationOk follows once the server
     * accepted the service account, so the client never sees a half-open session.
     */
    private void clientAuthenticated(Optional<AuthenticationSASLFinal> serverFinal) {
        proxyUser = clientLogin.user();
        environment.loginThrottle().orElseThrow().recordSuccess(clientAddress().getAddress(), user);
        serviceAccount = clientLogin.snapshot().accountFor(proxyUser);
        pendingUpstreamParameters.put("user", serviceAccount.user());
        phase = Phase.CONNECTING;
        Optional<UpstreamPool> pool = environment.upstreamPool();
        if (pool.isPresent()) {
            // Flushed with AuthenticationOk (or the error), one write for the client either way.
            serverFinal.ifPresent(message -> write(client, message));
            PoolKey.Request request = PoolKey.request(serviceAccount, database, pendingUpstreamParameters);
            pendingUpstreamParameters = null;
            upstreamConnectStartedNanos = System.nanoTime();
            Future<PooledBackend> lease = pool.get().lease(client.eventLoop(), request, id);
            if (!lease.isDone()) {
                // Nothing from the client until the session is ready; a backend reused as it is
                // completes the lease right here, without turning reads off and on again.
                client.config().setAutoRead(false);
            }
            lease.addListener(leased -> onLeased(pool.get(), leased));
            return;
        }
        serverFinal.ifPresent(message -> writeAndFlush(client, message));
        client.config().setAutoRead(false);
        StartupMessage upstreamStartup = new StartupMessage(StartupMessage.PROTOCOL_3_0, pendingUpstreamParameters);
        pendingUpstreamParameters = null;
        connectUpstream(upstreamStartup);
    }

    /**
     * {@code upstream.pool}: the pool logged in (or reused a connection) and applied the client's
     * settings; the client now gets what the server would have sent after authentication: its
     * ParameterStatus values, a proxy-issued cancel key for this backend, and ReadyForQuery.
     */
    private void onLeased(UpstreamPool pool, Future<?> leased) {
        if (!leased.isSuccess()) {
            if (phase == Phase.CONNECTING) {
                leaseFailed(leased.cause());
            }
            return;
        }
        PooledBackend backend = (PooledBackend) leased.getNow();
        if (phase != Phase.CONNECTING) {
            pool.release(backend, id); // the client left meanwhile; the connection is as good as idle
            return;
        }
        try {
            pooledBackend = backend;
            upstream = backend.channel();
            backend.handTo(new UpstreamHandler());
            environment.listener().upstreamConnected(this, Duration.ofNanos(System.nanoTime() - upstreamConnectStartedNanos));
            phase = Phase.AWAITING_READY;
            reportAuthentication(Optional.empty());
            write(client, AuthenticationOk.INSTANCE);
            backend.parameters().forEach((name, value) -> {
                ParameterStatus status = new ParameterStatus(name, value);
                noteParameterStatus(status);
                write(client, status);
            });
            backend.cancelKey().ifPresent(serverKey -> {
                cancelKey = environment.cancelKeys().issue(serverKey);
                write(client, new BackendKeyData(cancelKey.processId(), cancelKey.secretKey()));
            });
            if (sessionReady('I')) {
                writeAndFlush(client, ReadyForQuery.IDLE);
                client.config().setAutoRead(true);
            }
        } catch (RuntimeException | AssertionError e) {
            fail(e);
        }
    }

    /** The pool could not provide a connection: the server's refusal is relayed as at a direct login. */
    private void leaseFailed(Throwable cause) {
        if (!(cause instanceof PooledBackend.ServerRefused refused)) {
            fail(cause);
            return;
        }
        ErrorResponse error = refused.error();
        if (!refused.atLogin()) {
            // A startup setting the server rejects (client_encoding 'bogus'): FATAL, as it is at backend start.
            reportAuthentication(Optional.empty());
            closeWithError(error.withField('S', ErrorResponse.SEVERITY_FATAL).withField('V', ErrorResponse.SEVERITY_FATAL));
            return;
        }
        if (error.code().startsWith("28")) {
            // As at a direct login: the operator, not the client, must see and fix the service account.
            LOG.warn("session {}: the server refused service account {} (role {}) for user {}: {} {}", id,
                    serviceAccount.name(), serviceAccount.user(), user, error.code(), error.message());
            reportAuthentication(Optional.of("the server refused service account " + serviceAccount.name()
                    + ": " + error.message()));
            fail(new SessionException(SqlState.CONNECTION_FAILURE, "pgpolicy could not log in to the upstream"
                    + " server with the service account mapped to user \"" + user + "\""));
            return;
        }
        // Unknown database, too many connections...: the server's words, verbatim.
        upstreamFatal = error;
        reportAuthentication(Optional.of(error.message()));
        closeWithError(error);
    }

    /**
     * {@code upstream.pool}: at the end of a session, gives the server connection back to the pool
     * when nothing of the session is still under way on it: no transaction block (nor a failed
     * one), no request awaiting its reply (so no COPY either), nothing held for a decision, no
     * statement being cut off. The pool resets it before another session sees it. Returns false,
     * leaving the connection to be closed, otherwise.
     */
    private boolean returnUpstreamToPool() {
        if (pooledBackend == null || phase != Phase.READY || upstream == null || !upstream.isActive()
                || transactionStatus != 'I' || !inFlight.isEmpty() || awaitingDecision != null
                || !heldFrames.isEmpty() || cutoff != null || upstreamFatal != null) {
            return false;
        }
        PooledBackend backend = pooledBackend;
        pooledBackend = null;
        upstream = null;
        environment.upstreamPool().orElseThrow().release(backend, id);
        return true;
    }

    private void connectUpstream(StartupMessage startup) {
        upstreamConnectStartedNanos = System.nanoTime();
        upstream = connector.connect(client.eventLoop(),
                () -> client.eventLoop().execute(() -> onUpstreamReady(startup)),
                cause -> client.eventLoop().execute(() -> fail(cause)),
                new WriteCoalescer(), FrameDecoder.withDataRowRuns(), new UpstreamHandler());
    }

    private void onUpstreamReady(StartupMessage startup) {
        if (phase != Phase.CONNECTING) {
            upstream.close(); // the client left (or failed) while the connection was being set up
            return;
        }
        phase = Phase.AUTHENTICATING;
        environment.listener().upstreamConnected(this, Duration.ofNanos(System.nanoTime() - upstreamConnectStartedNanos));
        if (clientLogin != null) {
            upstreamLogin = new UpstreamLogin(serviceAccount, upstreamCertificateBinding(), environment.upstreamTls() != null);
        }
        writeAndFlush(upstream, startup);
        client.config().setAutoRead(true);
    }

    /** tls-server-end-point of the server's certificate, when the upstream connection is encrypted. */
    private Optional<ChannelBinding> upstreamCertificateBinding() {
        return UpstreamConnector.serverCertificateBinding(upstream);
    }

    private void forwardCancel(CancelRequest request) {
        Optional<CancelKeys.UpstreamKey> target = environment.cancelKeys().resolve(request.processId(), request.secretKey());
        if (target.isEmpty()) {
            // As PostgreSQL: an unknown key gets no answer and no hint that it was wrong.
            LOG.debug("session {}: cancel request with an unknown key dropped", id);
            return;
        }
        connector.cancel(client.eventLoop(), target.get(), id);
    }

    private void handshakeDeadlinePassed() {
        if (!phase.inHandshake()) {
            return;
        }
        LOG.info("session {}: {} did not complete the handshake within {} ms (phase {})", id, clientAddress(),
                environment.config().handshakeTimeout().toMillis(), phase);
        if (phase == Phase.STARTUP || phase == Phase.TLS_HANDSHAKE) {
            // Nothing proves the client speaks the protocol yet; PostgreSQL just closes too.
            phase = Phase.CLOSED;
            client.close();
            return;
        }
        closeWithError(ErrorResponse.fatal(SqlState.QUERY_CANCELED, "canceling authentication due to timeout"));
    }

    // ---------------------------------------------------------------- client frames

    private void onClientFrame(RawFrame frame) {
        boolean handedOver = false;
        try {
            char type = frame.type();
            if (!phase.accepts(type)) {
                throw new ProtocolException("unexpected message type '" + printable(type) + "' ("
                        + FrontendMessages.name(type) + ") " + phaseDescription());
            }
            switch (phase) {
                case AUTHENTICATING:
                    handedOver = onAuthenticationAnswer(frame);
                    return;
                case AWAITING_READY:
                    // Only Terminate is accepted here: the client gives up before the session is ready.
                    clientTerminated = true;
                    client.close();
                    return;
                case READY:
                    if (awaitingDecision != null) {
                        heldFrames.addLast(frame);
                        handedOver = true;
                        return;
                    }
                    handedOver = relayFromClient(frame);
                    return;
                case STARTUP:
                case TLS_HANDSHAKE:
                case CONNECTING:
                case CLOSED:
                    throw new AssertionError("phase " + phase + " accepts no frames");
            }
            throw new AssertionError(phase);
        } finally {
            if (!handedOver) {
                frame.release();
            }
        }
    }

    private String phaseDescription() {
        switch (phase) {
            case STARTUP:
            case TLS_HANDSHAKE:
                return "before the startup packet";
            case CONNECTING:
                return "before the server asked for anything";
            case AUTHENTICATING:
                return "during authentication";
            case AWAITING_READY:
                return "before the session was ready";
            case READY:
                return "in a ready session";
            case CLOSED:
                return "after the session ended";
        }
        throw new AssertionError(phase);
    }

    /** Returns true when the frame was handed to the upstream channel. */
    private boolean onAuthenticationAnswer(RawFrame frame) {
        if (frame.type() == 'X') {
            clientTerminated = true;
            client.close();
            return false;
        }
        if (clientLogin != null) {
            onClientLoginAnswer(frame);
            return false;
        }
        // Strict: the answer must be the kind the server asked for, and well formed.
        authentication.onClient(frame);
        upstream.writeAndFlush(frame.content());
        return true;
    }

    /** READY: inspect what policy needs, track the request, forward. Returns true when the frame was handed over. */
    private boolean relayFromClient(RawFrame frame) {
        char type = frame.type();
        SessionHooks hooks = environment.hooks();
        switch (type) {
            case 'Q': {
                Query query;
                try {
                    query = (Query) FrontendMessages.decode(frame);
                } catch (ProtocolException e) {
                    ErrorResponse error = undecodableText(e);
                    inFlight.sent(InFlightRequest.of(Kind.SIMPLE_QUERY, "", null).withDenial(error));
                    write(upstream, new Query(deniedStatement(error)));
                    return false;
                }
                return decide(frame, hooks.onQuery(this, query), verdict -> applyToQuery(frame, query, verdict));
            }
            case 'P': {
                Parse parse;
                try {
                    parse = (Parse) FrontendMessages.decode(frame);
                } catch (ProtocolException e) {
                    sendDenied(undecodableText(e));
                    return false;
                }
                return decide(frame, hooks.onParse(this, parse), verdict -> applyToParse(frame, parse, verdict));
            }
            case 'B': {
                Bind bind;
                try {
                    bind = (Bind) FrontendMessages.decode(frame);
                } catch (ProtocolException e) {
                    sendDenied(undecodableText(e));
                    return false;
                }
                Optional<String> sql = inFlight.statementSql(bind.statementName());
                return decide(frame, hooks.onBind(this, bind, sql), verdict -> applyToBind(frame, bind, verdict));
            }
            case 'F': {
                FunctionCall call = (FunctionCall) FrontendMessages.decode(frame);
                return decide(frame, hooks.onFunctionCall(this, call), verdict -> applyToFunctionCall(frame, verdict));
            }
            case 'E': {
                Execute execute = (Execute) FrontendMessages.decode(frame);
                InFlightRequest request = InFlightRequest.of(Kind.EXECUTE, execute.portalName(),
                        inFlight.portalSql(execute.portalName()).orElse(null));
                inFlight.sent(request);
                if (hooks.followsCompletions()) {
                    hooks.onForwarded(this, request);
                }
                return forward(frame);
            }
            case 'D': {
                Describe describe = (Describe) FrontendMessages.decode(frame);
                boolean statement = describe.kind() == TargetKind.STATEMENT;
                inFlight.sent(InFlightRequest.of(statement ? Kind.DESCRIBE_STATEMENT : Kind.DESCRIBE_PORTAL,
                        describe.name(), (statement ? inFlight.statementSql(describe.name())
                                : inFlight.portalSql(describe.name())).orElse(null)));
                return forward(frame);
            }
            case 'C': {
                Close close = (Close) FrontendMessages.decode(frame);
                boolean statement = close.kind() == TargetKind.STATEMENT;
                inFlight.sentClose(statement, close.name());
                return forward(frame);
            }
            case 'S': {
                FrontendMessages.decode(frame);
                InFlightRequest request = InFlightRequest.of(Kind.SYNC, "", null);
                inFlight.sent(request);
                if (hooks.followsCompletions()) {
                    hooks.onForwarded(this, request);
                }
                return forward(frame);
            }
            case 'X':
                clientTerminated = true;
                if (returnUpstreamToPool()) {
                    client.close();
                    return false;
                }
                return forward(frame);
            case 'H':
            case 'd':
            case 'c':
            case 'f':
                // Flush and COPY data: no reply of their own, nothing policy needs before the server sees them.
                return forward(frame);
            default:
                throw new AssertionError("phase READY accepted type " + type);
        }
    }

    /**
     * Applies a hook's verdict now, or, when it is pending, holds {@code frame} and every later
     * client frame until the decision arrives, reading nothing more from the client meanwhile.
     * Returns true when the frame was handed over (to the upstream channel, or to the wait).
     */
    private boolean decide(RawFrame frame, Verdict verdict, Predicate<Verdict> apply) {
        if (verdict.action() != Verdict.Action.PENDING) {
            return apply.test(verdict);
        }
        awaitingDecision = frame;
        client.config().setAutoRead(false);
        verdict.decision().whenComplete((decided, failure) -> client.eventLoop().execute(
                () -> onDecision(frame, apply, decided, failure)));
        return true;
    }

    private void onDecision(RawFrame frame, Predicate<Verdict> apply, Verdict decided, Throwable failure) {
        if (awaitingDecision != frame) {
            return; // the session ended meanwhile and released the frame
        }
        awaitingDecision = null;
        boolean handedOver = false;
        try {
            Verdict verdict;
            if (failure != null || decided == null || decided.action() == Verdict.Action.PENDING) {
                // Fail closed: without a decision the statement does not run; the session goes on.
                String correlationId = environment.randomId(6);
                LOG.error("session {}: policy decision failed [correlation id {}]", id, correlationId, failure);
                verdict = Verdict.deny(ErrorResponse.of(ErrorResponse.SEVERITY_ERROR, SqlState.INTERNAL_ERROR,
                        "the policy decision for this statement failed; it was not run",
                        "pgpolicy correlation id " + correlationId));
            } else {
                verdict = decided;
            }
            handedOver = apply.test(verdict);
        } catch (RuntimeException | AssertionError e) {
            fail(e);
            return;
        } finally {
            if (!handedOver) {
                frame.release();
            }
        }
        // Frames that arrived while the decision was pending, in order, until the next pending one.
        try {
            while (awaitingDecision == null && phase == Phase.READY && !heldFrames.isEmpty()) {
                onClientFrame(heldFrames.pollFirst());
            }
        } catch (RuntimeException | AssertionError e) {
            fail(e);
            return;
        }
        if (upstream != null) {
            upstream.flush();
        }
        resumeClientReads();
    }

    /** Reads the client again unless a decision is pending or the server is not keeping up. */
    private void resumeClientReads() {
        if (awaitingDecision == null && phase == Phase.READY && upstream != null && upstream.isWritable()) {
            client.config().setAutoRead(true);
        }
    }

    private boolean applyToQuery(RawFrame frame, Query query, Verdict verdict) {
        switch (verdict.action()) {
            case FORWARD:
                inFlight.sent(InFlightRequest.of(Kind.SIMPLE_QUERY, "", query.sql()));
                return forward(frame);
            case REWRITE:
                Query replacement = requireType(verdict, Query.class);
                inFlight.sent(InFlightRequest.of(Kind.SIMPLE_QUERY, "", replacement.sql()));
                write(upstream, replacement);
                return false;
            case DENY:
                inFlight.sent(InFlightRequest.of(Kind.SIMPLE_QUERY, "", query.sql()).withDenial(verdict.error()));
                write(upstream, new Query(deniedStatement(verdict.error())));
                return false;
            case PENDING:
                throw new IllegalStateException("a decision cannot be pending twice");
        }
        throw new AssertionError(verdict);
    }

    private boolean applyToParse(RawFrame frame, Parse parse, Verdict verdict) {
        switch (verdict.action()) {
            case FORWARD:
                inFlight.sentParse(parse.statementName(), parse.sql());
                return forward(frame);
            case REWRITE:
                Parse replacement = requireType(verdict, Parse.class);
                inFlight.sentParse(replacement.statementName(), replacement.sql());
                write(upstream, replacement);
                return false;
            case DENY:
                inFlight.closed(true, parse.statementName());
                sendDenied(verdict.error());
                return false;
            case PENDING:
                throw new IllegalStateException("a decision cannot be pending twice");
        }
        throw new AssertionError(verdict);
    }

    private boolean applyToBind(RawFrame frame, Bind bind, Verdict verdict) {
        switch (verdict.action()) {
            case FORWARD:
                inFlight.sentBind(bind.portalName(), bind.statementName());
                return forward(frame);
            case REWRITE:
                Bind replacement = requireType(verdict, Bind.class);
                inFlight.sentBind(replacement.portalName(), replacement.statementName());
                write(upstream, replacement);
                return false;
            case DENY:
                inFlight.closed(false, bind.portalName());
                sendDenied(verdict.error());
                return false;
            case PENDING:
                throw new IllegalStateException("a decision cannot be pending twice");
        }
        throw new AssertionError(verdict);
    }

    private boolean applyToFunctionCall(RawFrame frame, Verdict verdict) {
        InFlightRequest request = InFlightRequest.of(Kind.FUNCTION_CALL, "", null);
        switch (verdict.action()) {
            case FORWARD:
                inFlight.sent(request);
                return forward(frame);
            case REWRITE:
                throw new IllegalStateException("a FunctionCall cannot be rewritten, only forwarded or denied");
            case DENY:
                // The failing stand-in is a simple Query: ErrorResponse then ReadyForQuery, the
                // same replies a failed function call gets.
                inFlight.sent(request.withDenial(verdict.error()));
                write(upstream, new Query(deniedStatement(verdict.error())));
                return false;
            case PENDING:
                throw new IllegalStateException("a decision cannot be pending twice");
        }
        throw new AssertionError(verdict);
    }

    /**
     * Text that is not valid UTF-8 cannot be analysed, so it must not run; but it is the
     * statement's fault, not the connection's: PostgreSQL answers it with ERROR 22021 and the
     * session goes on. The frame itself was well formed, so the stream is still in sync. Any
     * other protocol error is rethrown and ends the session.
     */
    private static ErrorResponse undecodableText(ProtocolException e) {
        if (e.sqlState() != SqlState.CHARACTER_NOT_IN_REPERTOIRE) {
            throw e;
        }
        return ErrorResponse.of(ErrorResponse.SEVERITY_ERROR, SqlState.CHARACTER_NOT_IN_REPERTOIRE,
                "invalid byte sequence for encoding \"UTF8\": " + e.getMessage(), null);
    }

    private static <T extends FrontendMessage> T requireType(Verdict verdict, Class<T> type) {
        FrontendMessage replacement = verdict.replacement();
        if (!type.isInstance(replacement)) {
            throw new IllegalStateException("a " + type.getSimpleName() + " may only be rewritten into another "
                    + type.getSimpleName() + ", not " + replacement.getClass().getSimpleName());
        }
        return type.cast(replacement);
    }

    /**
     * A denied Parse or Bind: the server runs a statement that fails with the denial's SQLSTATE in
     * its place (unnamed statement and portal), so it enters the same error state it would have
     * if it had rejected the client's message itself: the transaction block fails, and everything
     * up to the client's Sync is discarded. Replies to these stand-ins are not relayed; the error
     * reaches the client as the hook wrote it.
     */
    private void sendDenied(ErrorResponse error) {
        inFlight.sent(InFlightRequest.synthetic(Kind.PARSE).withDenial(error));
        inFlight.sent(InFlightRequest.synthetic(Kind.BIND).withDenial(error));
        inFlight.sent(InFlightRequest.synthetic(Kind.EXECUTE).withDenial(error));
        write(upstream, new Parse("", deniedStatement(error), List.of()));
        write(upstream, new Bind("", "", List.of(), List.of(), List.of()));
        write(upstream, new Execute("", 0));
    }

    private static String deniedStatement(ErrorResponse error) {
        String code = error.code();
        if (!code.matches("[0-9A-Z]{5}")) {
            throw new IllegalArgumentException("invalid SQLSTATE in denial: " + code);
        }
        return String.format(DENIED_STATEMENT_TEMPLATE, code);
    }

    private boolean forward(RawFrame frame) {
        return writeHoldingBack(upstream, client, frame);
    }

    /** Writes {@code frame} to {@code target}, holding {@code source} back while {@code target} is full. */
    private static boolean writeHoldingBack(Channel target, Channel source, RawFrame frame) {
        return RunRelay.writeHoldingBack(target, source, frame.content());
    }

    // ---------------------------------------------------------------- upstream frames

    private void onUpstreamFrame(RawFrame frame) {
        boolean handedOver = false;
        try {
            switch (phase) {
                case AUTHENTICATING:
                    handedOver = onAuthenticationRequest(frame);
                    return;
                case AWAITING_READY:
                    handedOver = onPostAuthentication(frame);
                    return;
                case READY:
                    if (cutoff != null && cutoff.holding()) {
                        cutoff.holdAfter(frame);
                        handedOver = true;
                        return;
                    }
                    handedOver = relayFromServer(frame);
                    return;
                case CONNECTING:
                    throw upstreamViolation("sent '" + printable(frame.type()) + "' before the startup packet");
                case CLOSED:
                    return;
                case STARTUP:
                case TLS_HANDSHAKE:
                    throw new AssertionError("no upstream connection in phase " + phase);
            }
            throw new AssertionError(phase);
        } finally {
            if (!handedOver) {
                frame.release();
            }
        }
    }

    private boolean onAuthenticationRequest(RawFrame frame) {
        if (upstreamLogin != null) {
            return onUpstreamLoginRequest(frame);
        }
        BackendMessage message = BackendMessages.decode(frame);
        if (message instanceof Authentication request) {
            Optional<Authentication> replacement = authentication.onServer(request);
            if (authentication.stage() == PassthroughAuthentication.Stage.DONE) {
                phase = Phase.AWAITING_READY;
                reportAuthentication(Optional.empty());
            }
            if (replacement.isPresent()) {
                writeAndFlush(client, replacement.get());
                return false;
            }
            return relayNow(frame);
        }
        if (message instanceof ErrorResponse error) {
            // Wrong password, unknown role, no pg_hba.conf entry: the server's words, verbatim.
            upstreamFatal = error.isFatal() ? error : null;
            reportAuthentication(Optional.of(error.message()));
            return relayNow(frame);
        }
        if (message instanceof NoticeResponse) {
            return relayNow(frame);
        }
        throw upstreamViolation("sent " + BackendMessages.name(frame.type()) + " during authentication");
    }

    /** Tells the metrics and the audit trail, once, how authentication ended: empty on success, else why it failed. */
    private void reportAuthentication(Optional<String> failure) {
        if (authenticationReported) {
            return;
        }
        authenticationReported = true;
        if (failure.isPresent()) {
            authenticationFailed = true;
            closeReason = failure.get();
            environment.listener().authenticationFailed(this, failure.get());
        } else {
            environment.listener().authenticated(this);
        }
    }

    /** {@code auth.mode: proxy}: the server asks the proxy, not the client, for the service account's credentials. */
    private boolean onUpstreamLoginRequest(RawFrame frame) {
        BackendMessage message = BackendMessages.decode(frame);
        if (message instanceof Authentication request) {
            Optional<FrontendMessage> answer = upstreamLogin.onServer(request);
            answer.ifPresent(a -> writeAndFlush(upstream, a));
            if (upstreamLogin.done()) {
                phase = Phase.AWAITING_READY;
                reportAuthentication(Optional.empty());
                writeAndFlush(client, AuthenticationOk.INSTANCE);
            }
            return false;
        }
        if (message instanceof ErrorResponse error) {
            if (error.code().startsWith("28")) {
                // The client proved who it is; the server's refusal concerns the service account's
                // configuration, which the operator (not the client) must see and fix.
                LOG.warn("session {}: the server refused service account {} (role {}) for user {}: {} {}", id,
                        serviceAccount.name(), serviceAccount.user(), user, error.code(), error.message());
                reportAuthentication(Optional.of("the server refused service account " + serviceAccount.name()
                        + ": " + error.message()));
                throw new SessionException(SqlState.CONNECTION_FAILURE, "pgpolicy could not log in to the upstream"
                        + " server with the service account mapped to user \"" + user + "\"");
            }
            // Unknown database, too many connections...: the server's words, verbatim.
            upstreamFatal = error.isFatal() ? error : null;
            reportAuthentication(Optional.of(error.message()));
            return relayNow(frame);
        }
        if (message instanceof NoticeResponse) {
            return relayNow(frame);
        }
        throw upstreamViolation("sent " + BackendMessages.name(frame.type()) + " during authentication");
    }

    private boolean onPostAuthentication(RawFrame frame) {
        char type = frame.type();
        switch (type) {
            case ParameterStatus.TYPE:
                noteParameterStatus((ParameterStatus) BackendMessages.decode(frame));
                return relayNow(frame);
            case BackendKeyData.TYPE: {
                BackendKeyData serverKey = (BackendKeyData) BackendMessages.decode(frame);
                if (cancelKey != null) {
                    throw upstreamViolation("sent BackendKeyData twice");
                }
                cancelKey = environment.cancelKeys().issue(
                        new CancelKeys.UpstreamKey(serverKey.processId(), serverKey.secretKey()));
                writeAndFlush(client, new BackendKeyData(cancelKey.processId(), cancelKey.secretKey()));
                return false;
            }
            case 'N':
                return relayNow(frame);
            case ErrorResponse.TYPE: {
                ErrorResponse error = (ErrorResponse) BackendMessages.decode(frame);
                upstreamFatal = error.isFatal() ? error : null;
                return relayNow(frame);
            }
            case ReadyForQuery.TYPE: {
                ReadyForQuery ready = (ReadyForQuery) BackendMessages.decode(frame);
                return sessionReady((char) ready.status().code()) && relayNow(frame);
            }
            default:
                throw upstreamViolation("sent " + BackendMessages.name(type) + " before the session was ready");
        }
    }

    /**
     * The server's first ReadyForQuery: the hooks may still refuse the session (FATAL); otherwise
     * it is READY. Returns whether the ReadyForQuery should go to the client.
     */
    private boolean sessionReady(char status) {
        Optional<ErrorResponse> refused = environment.hooks().onSessionReady(this);
        if (refused.isPresent()) {
            ErrorResponse error = refused.get();
            closeWithError(error.isFatal() ? error : error.withField('S', ErrorResponse.SEVERITY_FATAL)
                    .withField('V', ErrorResponse.SEVERITY_FATAL));
            return false;
        }
        announcedReady = true;
        readySinceNanos = System.nanoTime();
        transactionStatus = status;
        phase = Phase.READY;
        reachedReady = true;
        handshakeDeadline.cancel(false);
        // Authenticated: from now on messages may be as large as PostgreSQL allows.
        FrameDecoder frames = client.pipeline().get(FrameDecoder.class);
        frames.setMaxFrameLength(FrameDecoder.DEFAULT_MAX_FRAME_LENGTH);
        LOG.info("session {}: opened for user={} db_user={} groups={} database={} application_name={} client={}"
                + " tls={} auth={}", id, user, dbUser().orElse(""), String.join("|", groups()), database,
                applicationName == null ? "" : applicationName, describe(clientAddress()), tls,
                authMethod().orElse(""));
        return true;
    }

    private boolean relayFromServer(RawFrame frame) {
        char type = frame.type();
        InFlightRequest request = inFlight.answering(type);
        if (cutoff != null) {
            return relayCutOff(frame, request);
        }
        return relayAttributed(frame, request);
    }

    private boolean relayAttributed(RawFrame frame, InFlightRequest request) {
        char type = frame.type();
        switch (type) {
            case ReadyForQuery.TYPE: {
                byte status = readyStatus(frame);
                transactionStatus = (char) status;
                readySinceNanos = System.nanoTime();
                endRowFilter();
                endCopyFilter();
                if (status == 'I') {
                    suspendedPortalFilters.clear(); // the transaction ended, and its portals with it
                }
                environment.hooks().onReadyForQuery(this);
                break;
            }
            case ErrorResponse.TYPE: {
                ErrorResponse error = (ErrorResponse) BackendMessages.decode(frame);
                upstreamFatal = error.isFatal() ? error : null;
                endRowFilter();
                endCopyFilter();
                if (request != null && request.denial().isPresent()
                        && error.code().equals(request.denial().get().code())) {
                    // The stand-in for a denied request failed as intended: the client sees the denial.
                    write(client, request.denial().get());
                    return false;
                }
                break;
            }
            case ParameterStatus.TYPE:
                noteParameterStatus((ParameterStatus) BackendMessages.decode(frame));
                break;
            case RowDescription.TYPE:
                if (environment.hooks().inspectsResults() && request != null && !request.synthetic()) {
                    RowDescription description = (RowDescription) BackendMessages.decode(frame);
                    RowFilter filter = environment.hooks().onRowDescription(this, request, description);
                    if (request.kind() == Kind.SIMPLE_QUERY) {
                        rowFilter = filter;
                        rowFilterOwner = request;
                    }
                }
                break;
            case DataRow.TYPE: {
                RowFilter filter = rowFilterFor(request);
                if (filter != RowFilter.UNCHANGED) {
                    Optional<ErrorResponse> refused = filter.admit();
                    if (refused.isPresent()) {
                        cutOff(request, refused.get());
                        return false;
                    }
                    if (filter.rewritesRows()) {
                        return relayFiltered(frame);
                    }
                }
                break;
            }
            case '2': // BindComplete: the portal name now means a new result
                if (request != null) {
                    suspendedPortalFilters.remove(request.name());
                }
                break;
            case 's': // PortalSuspended: the next Execute of the portal continues this result
                if (request != null && rowFilterOwner == request && rowFilter != RowFilter.UNCHANGED) {
                    suspendedPortalFilters.put(request.name(), rowFilter);
                }
                endRowFilter();
                break;
            case 'C':
            case 'I':
                endRowFilter();
                break;
            case CopyOutResponse.TYPE:
                if (environment.hooks().inspectsResults() && request != null && !request.synthetic()) {
                    endCopyFilter();
                    copyFilter = environment.hooks().onCopyOut(this, request,
                            (CopyOutResponse) BackendMessages.decode(frame));
                    // Each CopyData that follows is a row, counted against a row limit as a DataRow is.
                    rowFilter = environment.hooks().onCopyOutRows(this, request);
                    rowFilterOwner = request;
                }
                break;
            case CopyData.TYPE:
                if (request != null && rowFilterOwner == request && rowFilter != RowFilter.UNCHANGED) {
                    Optional<ErrorResponse> refused = rowFilter.admit();
                    if (refused.isPresent()) {
                        endCopyFilter();
                        cutOff(request, refused.get());
                        return false;
                    }
                }
                if (copyFilter != CopyFilter.UNCHANGED) {
                    return relayCopyFiltered(frame);
                }
                break;
            case 'c': // CopyDone: a row cut short by it is never relayed
                copyFilter.finish();
                endCopyFilter();
                break;
            default:
                break;
        }
        if (request != null && request.synthetic()) {
            return false; // ParseComplete / BindComplete of a denied request's stand-in
        }
        if (request != null && request.denial().isEmpty() && environment.hooks().followsCompletions()) {
            reportReply(frame, request);
        }
        return relay(frame);
    }

    private static byte readyStatus(RawFrame frame) {
        if (frame.bodyLength() != 1) {
            BackendMessages.decode(frame); // throws the precise protocol error
        }
        byte status = frame.body().getByte(0);
        if (status != 'I' && status != 'T' && status != 'E') {
            BackendMessages.decode(frame);
        }
        return status;
    }

    /** Tells the hooks how the server ended a statement or request (statement audit records). */
    private void reportReply(RawFrame frame, InFlightRequest request) {
        ServerReply reply;
        switch (frame.type()) {
            case CommandComplete.TYPE:
                reply = ServerReply.completed(((CommandComplete) BackendMessages.decode(frame)).tag());
                break;
            case 'I':
                reply = ServerReply.of(ServerReply.Kind.EMPTY_QUERY);
                break;
            case 's':
                reply = ServerReply.of(ServerReply.Kind.PORTAL_SUSPENDED);
                break;
            case ErrorResponse.TYPE:
                reply = ServerReply.failed((ErrorResponse) BackendMessages.decode(frame));
                break;
            case ReadyForQuery.TYPE:
                reply = ServerReply.of(ServerReply.Kind.READY);
                break;
            default:
                return;
        }
        environment.hooks().onReply(this, request, reply);
    }

    /** The filter the rows answering {@code request} go through; an Execute's is set up at its first row. */
    private RowFilter rowFilterFor(InFlightRequest request) {
        if (!environment.hooks().inspectsResults() || request == null || request.synthetic()) {
            return RowFilter.UNCHANGED;
        }
        if (request.kind() == Kind.EXECUTE && rowFilterOwner != request) {
            RowFilter resumed = suspendedPortalFilters.remove(request.name());
            rowFilter = resumed != null ? resumed : environment.hooks().onExecute(this, request);
            rowFilterOwner = request;
        }
        return rowFilter;
    }

    private boolean relayFiltered(RawFrame frame) {
        DataRow row = (DataRow) BackendMessages.decode(frame);
        DataRow filtered = rowFilter.filter(row, client.alloc());
        if (filtered == row) {
            // Unchanged, or rewritten in place: the frame's own bytes are the row to send, and
            // they continue the receive buffer's run for the WriteCoalescer.
            row.release();
            return relay(frame);
        }
        try {
            write(client, filtered);
        } finally {
            filtered.release();
        }
        if (!client.isWritable()) {
            upstream.config().setAutoRead(false);
        }
        return false;
    }

    /**
     * Consecutive DataRows of one receive buffer ({@link DataRowRun}), counted, masked and written
     * to the client as one write ({@link RunRelay}); whatever is left of the run (after a row
     * limit cut the statement, or outside READY) takes the path of a single row, row by row and in
     * order.
     */
    private void onUpstreamRun(DataRowRun run) {
        try {
            if (phase == Phase.READY && cutoff == null) {
                InFlightRequest request = inFlight.answering(DataRow.TYPE);
                RowFilter filter = rowFilterFor(request);
                RunRelay.relayCounted(run, request, filter, client, upstream, refused -> cutOff(request, refused));
                RunRelay.relayRewritten(run, request, filter, client, upstream, refused -> cutOff(request, refused));
            }
            RawFrame row;
            while ((row = run.pollFrame()) != null) {
                onUpstreamFrame(row);
            }
        } finally {
            run.release();
        }
    }

    /**
     * A row limit was reached: the client gets the limit's error now and no more rows of the
     * statement, and the server is asked to cancel it; see {@link RowLimitCutoff}.
     */
    private void cutOff(InFlightRequest request, ErrorResponse error) {
        LOG.info("session {}: {} for user={}: cancelling the statement", id, error.message(), user);
        if (request.kind() == Kind.EXECUTE) {
            // The portal may survive (a suspended portal the cancel came too late for): its
            // exhausted filter refuses any row a later Execute of it would fetch.
            suspendedPortalFilters.put(request.name(), rowFilter);
        }
        endRowFilter();
        write(client, error);
        RowLimitCutoff cut = new RowLimitCutoff(error);
        cutoff = cut;
        Optional<CancelKeys.UpstreamKey> key = cancelKey == null ? Optional.empty()
                : environment.cancelKeys().resolve(cancelKey.processId(), cancelKey.secretKey());
        if (key.isEmpty()) {
            cut.cancelDelivered = true;
            return;
        }
        connector.cancel(client.eventLoop(), key.get(), id).addListener(done -> cancelDelivered(cut));
    }

    /** Everything the server sends while a statement is cut off; see {@link RowLimitCutoff}. */
    private boolean relayCutOff(RawFrame frame, InFlightRequest request) {
        switch (frame.type()) {
            case NoticeResponse.TYPE:
            case 'A': // NotificationResponse
                return relay(frame);
            case ParameterStatus.TYPE:
                noteParameterStatus((ParameterStatus) BackendMessages.decode(frame));
                return relay(frame);
            case ErrorResponse.TYPE: {
                ErrorResponse error = (ErrorResponse) BackendMessages.decode(frame);
                if (error.isFatal()) {
                    upstreamFatal = error;
                    return relay(frame);
                }
                // The cancel (or the stand-in) failed it: the client already has the limit's error.
                cutoff.serverFailed = true;
                return false;
            }
            case 'G': {
                // CopyInResponse of a COPY FROM the server ran after the cut statement (the cancel
                // came too late): the client believes it skipped, so it sends no data; fail it.
                writeAndFlush(upstream, new CopyFail(cutoff.error.message()));
                return false;
            }
            case ReadyForQuery.TYPE:
                readyStatus(frame);
                if (!cutoff.cancelDelivered) {
                    cutoff.holdReady(frame);
                    upstream.config().setAutoRead(false);
                    return true;
                }
                return endCutoff(frame, request);
            default:
                return false; // results of the cut statement, and of what the server ran after it
        }
    }

    private void cancelDelivered(RowLimitCutoff cut) {
        if (cutoff != cut || phase != Phase.READY) {
            return;
        }
        cut.cancelDelivered = true;
        RawFrame ready = cut.takeHeldReady();
        if (ready == null) {
            return;
        }
        try {
            boolean handedOver = false;
            try {
                handedOver = endCutoff(ready, null);
            } finally {
                if (!handedOver) {
                    ready.release();
                }
            }
            // In order; a new cutoff among them holds the rest again (onUpstreamFrame).
            RawFrame next;
            while ((next = cut.pollHeldAfter()) != null) {
                onUpstreamFrame(next);
            }
        } catch (RuntimeException | AssertionError e) {
            fail(e);
            return;
        }
        client.flush();
        if (cutoff != null && cutoff.holding()) {
            return;
        }
        if (upstream != null && client.isWritable()) {
            upstream.config().setAutoRead(true);
        }
    }

    /**
     * The ReadyForQuery after a cut statement. When the server finished the statement before the
     * cancel reached it, inside a transaction block ('T'), the block would go on although the client
     * was told the statement failed: a stand-in statement fails it, as the cancelled statement would
     * have, and its ReadyForQuery ('E') replaces this one. That is only possible while nothing else
     * is on its way to the server; otherwise the block stays open, as logged.
     */
    private boolean endCutoff(RawFrame ready, InFlightRequest request) {
        byte status = ready.body().getByte(0);
        if (status == 'T' && !cutoff.serverFailed && !cutoff.failingBlock) {
            // Client messages not forwarded yet (held for a decision) go after the stand-in, as they would have
            // gone after the failed statement; ones already forwarded would run before it.
            if (inFlight.isEmpty()) {
                cutoff.failingBlock = true;
                inFlight.sent(InFlightRequest.of(Kind.SIMPLE_QUERY, "", null));
                writeAndFlush(upstream, new Query(deniedStatement(cutoff.error)));
                return false;
            }
            LOG.warn("session {}: the server completed a statement cut off by a row limit before the cancel reached it,"
                    + " and the client sent more before the transaction block could be failed: the block stays open",
                    id);
        }
        cutoff = null;
        return relayAttributed(ready, request);
    }

    /** A CopyData payload through the filter, sent as one CopyData of whatever complete rows it gave back. */
    private boolean relayCopyFiltered(RawFrame frame) {
        ByteBuf out = client.alloc().buffer(frame.frameLength());
        try {
            out.writeByte(CopyData.TYPE).writeInt(0);
            copyFilter.filter(frame.body(), out);
        } catch (RuntimeException | Error e) {
            out.release();
            throw e;
        }
        if (out.readableBytes() == RawFrame.HEADER_LENGTH) {
            out.release(); // the start of a row, held back until its end arrives
            return false;
        }
        out.setInt(1, out.readableBytes() - 1);
        client.write(out);
        if (!client.isWritable()) {
            upstream.config().setAutoRead(false);
        }
        return false;
    }

    private void endCopyFilter() {
        copyFilter.discard();
        copyFilter = CopyFilter.UNCHANGED;
    }

    private void endRowFilter() {
        rowFilter = RowFilter.UNCHANGED;
        rowFilterOwner = null;
    }

    private void noteParameterStatus(ParameterStatus status) {
        serverParameters.put(status.name(), status.value());
        if (status.name().equals("application_name")) {
            applicationName = status.value();
        } else if (status.name().equals("client_encoding")
                && UNSAFE_CLIENT_ENCODINGS.contains(status.value().toUpperCase(Locale.ROOT))) {
            // The server reports the canonical name, whichever alias the client used.
            throw new SessionException(SqlState.FEATURE_NOT_SUPPORTED, "client_encoding " + status.value()
                    + " is not supported through pgpolicy: in it an ASCII byte such as a quote or backslash can be"
                    + " part of a multibyte character, so pgpolicy could read a statement differently from the"
                    + " server; use UTF8");
        }
    }

    private boolean relay(RawFrame frame) {
        return writeHoldingBack(client, upstream, frame);
    }

    private boolean relayNow(RawFrame frame) {
        client.writeAndFlush(frame.content());
        return true;
    }

    private void onUpstreamClosed() {
        if (phase == Phase.CLOSED) {
            return;
        }
        if (clientTerminated || upstreamFatal != null) {
            // The server said why (or the client asked to end): nothing to add.
            phase = Phase.CLOSED;
            closeOnFlush(client);
            return;
        }
        fail(new SessionException(SqlState.CONNECTION_FAILURE,
                "the upstream server closed the connection unexpectedly"));
    }

    private static ProtocolException upstreamViolation(String what) {
        return new ProtocolException(SqlState.PROTOCOL_VIOLATION, "the upstream server " + what);
    }

    // ---------------------------------------------------------------- the one exit for failures

    /** Ends the session because of {@code failure}: one FATAL error to the client, a log line, both channels closed. */
    private void fail(Throwable failure) {
        if (phase == Phase.CLOSED) {
            LOG.debug("session {}: after close: {}", id, failure.toString());
            return;
        }
        String correlationId = environment.randomId(6);
        Errors.Classified classified = Errors.classify(failure);
        if (Errors.isExpected(failure)) {
            LOG.info("session {}: closing {} ({} {}): {} [correlation id {}]", id, describe(clientAddress()),
                    classified.state().code(), phase, classified.message(), correlationId);
        } else {
            LOG.error("session {}: internal error in phase {} [correlation id {}]", id, phase, correlationId, failure);
        }
        closeWithError(Errors.fatal(failure, correlationId));
    }

    private void closeWithError(ErrorResponse error) {
        if (closeReason == null) {
            closeReason = error.message();
        }
        Phase before = phase;
        phase = Phase.CLOSED;
        if (upstream != null) {
            upstream.close();
        }
        SslHandler handler = client.pipeline().get(SslHandler.class);
        boolean clientCanRead = before != Phase.TLS_HANDSHAKE && (handler == null || handler.handshakeFuture().isSuccess());
        if (client.isActive() && clientCanRead) {
            client.writeAndFlush(error.encode(client.alloc())).addListener(ChannelFutureListener.CLOSE);
        } else {
            client.close();
        }
    }

    // ---------------------------------------------------------------- helpers

    private static void write(Channel channel, WireMessage message) {
        channel.write(message.encode(channel.alloc()));
    }

    private static void writeAndFlush(Channel channel, WireMessage message) {
        channel.writeAndFlush(message.encode(channel.alloc()));
    }

    private static void closeOnFlush(Channel channel) {
        if (channel.isActive()) {
            channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
    }

    private void logClose(Phase before) {
        if (closeLogged) {
            return;
        }
        closeLogged = true;
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - openedNanos);
        String serverEnded = upstreamFatal == null ? null
                : "the server ended the session: " + upstreamFatal.code() + " " + upstreamFatal.message();
        LOG.info("session {}: closed user={} database={} client={} duration={}ms bytes_in={} bytes_out={}{}{}", id,
                user == null ? "" : user, database == null ? "" : database, describe(clientAddress()), millis,
                traffic.bytesIn(), traffic.bytesOut(), before == Phase.READY || before == Phase.CLOSED ? "" : " (during " + before + ")",
                serverEnded == null ? "" : " (" + serverEnded + ")");
        environment.listener().closed(this, new SessionSummary(outcome(), startupSeen,
                Duration.ofNanos(System.nanoTime() - openedNanos), traffic.bytesIn(), traffic.bytesOut(),
                closeReason != null ? closeReason
                        : clientTerminated ? "client terminated the session"
                        : serverEnded != null ? serverEnded
                        : "the client closed the connection"));
    }

    private SessionSummary.Outcome outcome() {
        if (cancelRequest) {
            return SessionSummary.Outcome.CANCEL_REQUEST;
        }
        if (reachedReady) {
            return SessionSummary.Outcome.AUTHENTICATED;
        }
        if (authenticationFailed) {
            return SessionSummary.Outcome.AUTHENTICATION_FAILED;
        }
        if (refused) {
            return SessionSummary.Outcome.REFUSED;
        }
        return SessionSummary.Outcome.FAILED;
    }

    private static String describe(InetSocketAddress address) {
        if (address == null) {
            return "unknown";
        }
        return address.getAddress().getHostAddress() + ":" + address.getPort();
    }

    private static String printable(char type) {
        return type >= 0x20 && type < 0x7F ? String.valueOf(type) : String.format("\\x%02x", (int) type);
    }

    /** The session's handler on the upstream channel. */
    private final class UpstreamHandler extends ChannelInboundHandlerAdapter {

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof DataRowRun run) {
                try {
                    onUpstreamRun(run);
                } catch (RuntimeException | AssertionError e) {
                    fail(e);
                }
                return;
            }
            if (!(msg instanceof RawFrame frame)) {
                ReferenceCountUtil.release(msg);
                fail(new AssertionError("unexpected upstream pipeline message " + msg.getClass()));
                return;
            }
            try {
                onUpstreamFrame(frame);
            } catch (RuntimeException | AssertionError e) {
                fail(e);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            client.flush();
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            // The server drained what the client sent: read the client again (once reading is allowed at all).
            if (phase == Phase.AUTHENTICATING && ctx.channel().isWritable()) {
                client.config().setAutoRead(true);
            } else {
                resumeClientReads();
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            onUpstreamClosed();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ProxyConfig config = environment.config();
            if (ProtocolException.find(cause).isPresent()) {
                ProtocolException e = ProtocolException.find(cause).get();
                fail(new ProtocolException(e.sqlState(), "the upstream server broke the protocol: " + e.getMessage(), e));
            } else if (rootCause(cause) instanceof SSLException) {
                fail(new SessionException(SqlState.CONNECTION_FAILURE, "TLS handshake with the upstream server at "
                        + config.upstream() + " failed (upstream TLS " + config.upstreamTls().configName() + "): "
                        + UpstreamTlsNegotiator.rootMessage(cause), cause));
            } else if (rootCause(cause) instanceof IOException) {
                fail(new SessionException(SqlState.CONNECTION_FAILURE, "the connection to the upstream server at "
                        + config.upstream() + " failed: " + UpstreamTlsNegotiator.rootMessage(cause), cause));
            } else {
                fail(cause);
            }
        }
    }

    /**
     * The Optional an accessor last returned, handed out again while it holds that very string.
     * The Optional carries its value, so a reader on another thread (a decision worker) sees a
     * matching pair or builds a new one, never a stale one.
     */
    private static final class HeldOptional {
        private Optional<String> held = Optional.empty();

        Optional<String> of(String value) {
            Optional<String> current = held;
            if (current.orElse(null) != value) {
                current = Optional.ofNullable(value);
                held = current;
            }
            return current;
        }
    }
}
