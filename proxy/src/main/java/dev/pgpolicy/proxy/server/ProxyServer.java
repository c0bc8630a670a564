package dev.pgpolicy.proxy.server;

import dev.pgpolicy.proxy.admin.AdminServer;
import dev.pgpolicy.proxy.admin.AdminSources;
import dev.pgpolicy.proxy.admin.PolicyControl;
import dev.pgpolicy.proxy.admin.ProxyMetrics;
import dev.pgpolicy.proxy.audit.AuditConfig;
import dev.pgpolicy.proxy.audit.AuditLog;
import dev.pgpolicy.proxy.config.HostPort;
import dev.pgpolicy.proxy.identity.LoginThrottle;
import dev.pgpolicy.proxy.identity.UserDirectory;
import dev.pgpolicy.proxy.identity.UsersFileException;
import dev.pgpolicy.proxy.scram.ChannelBinding;
import dev.pgpolicy.proxy.session.ClientSession;
import dev.pgpolicy.proxy.session.SessionEnvironment;
import dev.pgpolicy.proxy.catalog.CatalogCache;
import dev.pgpolicy.proxy.enforce.DecisionListener;
import dev.pgpolicy.proxy.enforce.LivePolicyControl;
import dev.pgpolicy.proxy.enforce.PolicyDirectoryWatcher;
import dev.pgpolicy.proxy.enforce.MaskingKey;
import dev.pgpolicy.proxy.enforce.PolicyHooks;
import dev.pgpolicy.proxy.enforce.StatementAudit;
import dev.pgpolicy.proxy.session.SessionHooks;
import dev.pgpolicy.proxy.session.SessionListener;
import dev.pgpolicy.proxy.session.UpstreamPool;
import dev.pgpolicy.proxy.tls.CertificateAuthority;
import dev.pgpolicy.proxy.tls.CertifiedKey;
import dev.pgpolicy.proxy.tls.KeyAlgorithm;
import dev.pgpolicy.proxy.tls.Validity;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The listening proxy: accepts clients, gives each a {@link ClientSession} with its own upstream
 * connection, and shuts down gracefully.
 *
 * <pre>{@code
 * try (ProxyServer proxy = ProxyServer.start(config)) {
 *     InetSocketAddress address = proxy.address();   // port 0 in the config picks a free port
 *     ...
 * }
 * }</pre>
 */
public final class ProxyServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ProxyServer.class);

    /** Relay buffers per direction: enough for a burst of rows, small enough that a stalled client costs little. */
    private static final WriteBufferWaterMark RELAY_WATER_MARK = new WriteBufferWaterMark(64 * 1024, 256 * 1024);

    private final ProxyConfig config;
    private final SessionEnvironment environment;
    private final EventLoopGroup acceptors;
    private final EventLoopGroup workers;
    private final Channel serverChannel;
    private final String certificateFingerprint;
    private final ProxyMetrics metrics;
    private final Optional<AuditLog> audit;
    private AdminServer admin;
    private final Object closeLock = new Object();
    private boolean closed;
    /** Hooks {@link #start(ProxyConfig)} built from the configuration, released on close. */
    private PolicyHooks ownedHooks;
    /** Reloads {@link #ownedHooks}' set when its files change ({@code policies_watch}); null when off. */
    private PolicyDirectoryWatcher policyWatcher;

    private ProxyServer(ProxyConfig config, SessionEnvironment environment, EventLoopGroup acceptors,
            EventLoopGroup workers, Channel serverChannel, String certificateFingerprint, ProxyMetrics metrics,
            Optional<AuditLog> audit) {
        this.config = config;
        this.environment = environment;
        this.acceptors = acceptors;
        this.workers = workers;
        this.serverChannel = serverChannel;
        this.certificateFingerprint = certificateFingerprint;
        this.metrics = metrics;
        this.audit = audit;
    }

    /**
     * Starts a proxy that enforces the configured policy directory ({@code --policies}), or relays
     * without policy when none is configured. A policy set that does not compile or fails its
     * tests refuses the start ({@link dev.pgpolicy.proxy.enforce.LivePolicy.RefusedException}).
     */
    public static ProxyServer start(ProxyConfig config) {
        if (config.policiesDir().isEmpty()) {
            // Checked though unused: a bad key file must not wait until policies are added to show.
            config.maskingHashKeyFile().ifPresent(file -> MaskingKey.fromFile(file).close());
            return start(config, SessionHooks.RELAY);
        }
        refuseUnsupported(config); // before loading policies: the operator learns of every refusal at once
        MaskingKey hashKey = config.maskingHashKeyFile().map(MaskingKey::fromFile).orElseGet(MaskingKey::perProcess);
        // The audit log first: the hooks write a record for every statement they decide.
        Optional<AuditLog> audit;
        try {
            audit = openAudit(config);
        } catch (RuntimeException e) {
            hashKey.close();
            throw e;
        }
        PolicyHooks hooks;
        try {
            hooks = PolicyHooks.forDirectory(config.policiesDir().get(),
                    audit.<DecisionListener>map(StatementAudit::new).orElse(DecisionListener.NONE),
                    CatalogCache.forUpstream(config).orElse(null), hashKey);
        } catch (RuntimeException e) {
            hashKey.close();
            audit.ifPresent(AuditLog::close);
            throw e;
        }
        try {
            ProxyServer server = start(config, hooks, Optional.of(new LivePolicyControl(hooks.policy())), audit);
            server.ownedHooks = hooks;
            if (config.policiesWatch()) {
                server.policyWatcher = PolicyDirectoryWatcher.start(hooks.policy(),
                        outcome -> server.metrics.recordReload(outcome.loaded()));
            }
            return server;
        } catch (RuntimeException e) {
            hooks.close();
            throw e;
        }
    }

    /**
     * Starts a proxy whose sessions call {@code hooks} at each statement and result (policy
     * enforcement, masking). Throws {@link IllegalArgumentException} with a message for the
     * operator when the configuration cannot be used (unreadable certificate, port in use, a
     * configured feature this build lacks).
     */
    public static ProxyServer start(ProxyConfig config, SessionHooks hooks) {
        return start(config, hooks, Optional.empty());
    }

    /**
     * As {@link #start(ProxyConfig, SessionHooks)}, with the live policy set that {@code GET /policy}
     * and {@code POST /reload} on the admin endpoint act on.
     */
    public static ProxyServer start(ProxyConfig config, SessionHooks hooks, Optional<PolicyControl> policy) {
        refuseUnsupported(config); // before the audit directory is created
        return start(config, hooks, policy, openAudit(config));
    }

    /** Takes ownership of {@code audit}: it is closed with the server, or at once when the start fails. */
    private static ProxyServer start(ProxyConfig config, SessionHooks hooks, Optional<PolicyControl> policy,
            Optional<AuditLog> audit) {
        try {
            return startWithAudit(config, hooks, policy, audit);
        } catch (RuntimeException e) {
            audit.ifPresent(AuditLog::close);
            throw e;
        }
    }

    private static ProxyServer startWithAudit(ProxyConfig config, SessionHooks hooks, Optional<PolicyControl> policy,
            Optional<AuditLog> audit) {
        refuseUnsupported(config);
        CertifiedKey serverKey = loadOrGenerateCertificate(config);
        SslContext clientFacingTls = TlsContexts.server(serverKey.privateKey(), serverKey.chain(), config);
        SslContext upstreamTls = TlsContexts.upstream(config);
        UserDirectory users = null;
        Optional<ChannelBinding> ownBinding = Optional.empty();
        if (config.authMode() == ProxyConfig.AuthMode.PROXY) {
            users = loadUsers(config);
            // RFC 5929 section 4: the hash of the certificate the clients see, for SCRAM-SHA-256-PLUS.
            ownBinding = ChannelBinding.tlsServerEndPoint(serverKey.certificate());
        }

        boolean epoll = Epoll.isAvailable();
        EventLoopGroup acceptors = epoll
                ? new EpollEventLoopGroup(1, new DefaultThreadFactory("pgpolicy-accept"))
                : new NioEventLoopGroup(1, new DefaultThreadFactory("pgpolicy-accept"));
        EventLoopGroup workers = epoll
                ? new EpollEventLoopGroup(config.eventLoops(), new DefaultThreadFactory("pgpolicy-io"))
                : new NioEventLoopGroup(config.eventLoops(), new DefaultThreadFactory("pgpolicy-io"));
        Class<? extends ServerChannel> serverChannelClass =
                epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        Class<? extends SocketChannel> socketChannelClass =
                epoll ? EpollSocketChannel.class : NioSocketChannel.class;

        // The metrics read the session set, which the environment owns; the holder breaks the cycle.
        SessionEnvironment[] environmentHolder = new SessionEnvironment[1];
        ProxyMetrics metrics = new ProxyMetrics(() -> environmentHolder[0].sessions().size(), audit);
        SessionListener listener = audit.isPresent()
                ? SessionListener.all(metrics, new AuditTrail(audit.get(), policyRevision(hooks)))
                : metrics;
        SessionEnvironment environment = new SessionEnvironment(
                config, clientFacingTls, upstreamTls, socketChannelClass, hooks, listener, users, ownBinding);
        environmentHolder[0] = environment;
        environment.loginThrottle().ifPresent(throttle -> metrics.exposeLoginThrottle(throttle::counters));
        environment.upstreamPool().ifPresent(pool -> metrics.exposeUpstreamPool(pool::counters));
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(acceptors, workers)
                .channel(serverChannelClass)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                // Nothing is read from a client until the session asks: the startup packet first,
                // the rest only once the upstream connection is ready (backpressure from the start).
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, RELAY_WATER_MARK)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel channel) {
                        ClientSession.install(channel, environment);
                    }
                });
        HostPort listen = config.listen();
        Channel serverChannel;
        try {
            serverChannel = bootstrap.bind(listen.host(), listen.port()).syncUninterruptibly().channel();
        } catch (RuntimeException e) {
            shutdownGroups(acceptors, workers);
            audit.ifPresent(AuditLog::close);
            throw new IllegalArgumentException("cannot listen on " + listen + ": " + TlsContexts.rootMessage(e), e);
        }
        ProxyServer server = new ProxyServer(config, environment, acceptors, workers, serverChannel,
                serverKey.fingerprint(), metrics, audit);
        if (config.adminListen().isPresent()) {
            try {
                server.admin = AdminServer.start(config.adminListen().get(), config.adminTokenFile(),
                        new AdminSources(() -> List.copyOf(environment.sessions()), metrics,
                                serverChannel::isActive, audit, policy));
            } catch (RuntimeException e) {
                server.close();
                throw e;
            }
        }
        LOG.info("pgpolicy listening on {} (transport {}), relaying to {} (upstream TLS {}), TLS certificate SHA-256 {}{}",
                server.address(), epoll ? "epoll" : "nio", config.upstream(), config.upstreamTls().configName(),
                serverKey.fingerprint(), config.tlsCert().isPresent() ? "" : " (self-signed, generated at start)");
        if (config.upstreamTls() != ProxyConfig.UpstreamTls.DISABLE) {
            // A client on TLS that supports channel binding tells the server so ("y" GS2 flag, RFC
            // 5802 section 6); the proxy cannot offer it the binding (its certificate is not the
            // server's), and a TLS server rejects that flag as a downgrade. The flag is covered by
            // the client's proof, so the proxy cannot rewrite it either.
            LOG.warn("upstream TLS is on: with SCRAM passthrough, clients that connect to pgpolicy over TLS must"
                    + " disable channel binding (libpq channel_binding=disable, pgjdbc channelBinding=disable),"
                    + " or the server refuses them with \"SCRAM channel binding negotiation error\"");
        }
        return server;
    }

    private static void refuseUnsupported(ProxyConfig config) {
        List<String> unsupported = config.unsupportedFeatures();
        if (!unsupported.isEmpty()) {
            throw new IllegalArgumentException("refusing to start: " + String.join("; ", unsupported));
        }
    }

    private static UserDirectory loadUsers(ProxyConfig config) {
        try {
            return UserDirectory.load(config.usersFile().orElseThrow());
        } catch (UsersFileException e) {
            throw new IllegalArgumentException("cannot load the users file: " + e.getMessage(), e);
        }
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) serverChannel.localAddress();
    }

    public ProxyConfig config() {
        return config;
    }

    /** SHA-256 fingerprint of the certificate clients see, as {@code openssl x509 -fingerprint -sha256} prints it. */
    public String certificateFingerprint() {
        return certificateFingerprint;
    }

    /** The proxy's metrics; enforcement code records its decisions here. */
    public ProxyMetrics metrics() {
        return metrics;
    }

    /** The audit log, when one is configured. */
    public Optional<AuditLog> audit() {
        return audit;
    }

    /** Where the admin endpoint listens, when it is configured (port 0 in the config picks a free port). */
    public Optional<InetSocketAddress> adminAddress() {
        return Optional.ofNullable(admin).map(AdminServer::address);
    }

    /**
     * Re-reads the users file ({@code auth.mode: proxy}; empty in passthrough). A valid file
     * replaces the users at once and ends the sessions of removed or changed users; an invalid
     * one is logged with its diagnostics and the previous version stays live.
     */
    public Optional<UserDirectory.ReloadResult> reloadUsers() {
        return environment.users().map(UserDirectory::reload);
    }

    /**
     * What SIGHUP asks for: re-read the users file and recompile and retest the policy directory.
     * Each keeps its version in force when the new one is refused, and logs the outcome.
     */
    public void reload() {
        reloadUsers();
        if (ownedHooks != null) {
            metrics.recordReload(ownedHooks.policy().reload().loaded());
        }
    }

    /** The failed-login throttle's running totals ({@code auth.mode: proxy}), for metrics. */
    public Optional<LoginThrottle.Counters> loginThrottleCounters() {
        return environment.loginThrottle().map(LoginThrottle::counters);
    }

    /** Sessions currently open (from accepted connection to close). */
    public int activeSessions() {
        return environment.sessions().size();
    }

    /**
     * Stops accepting, lets open sessions finish for the configured grace period, then ends the
     * rest the way PostgreSQL's fast shutdown does (FATAL 57P01) and releases all threads.
     */
    @Override
    public void close() {
        synchronized (closeLock) {
            if (closed) {
                return;
            }
            closed = true;
        }
        serverChannel.close().syncUninterruptibly();
        if (admin != null) {
            admin.close();
        }
        if (policyWatcher != null) {
            policyWatcher.close(); // no reload may start while the sessions and the hooks go away
        }
        Duration grace = config.shutdownGracePeriod();
        int open = environment.sessions().size();
        if (open > 0) {
            LOG.info("shutting down: waiting up to {} ms for {} open session(s) to finish", grace.toMillis(), open);
        }
        long deadline = System.nanoTime() + grace.toNanos();
        while (!environment.sessions().isEmpty() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        List<ClientSession> remaining = new ArrayList<>(environment.sessions());
        if (!remaining.isEmpty()) {
            LOG.info("shutting down: terminating {} session(s) still open after the grace period", remaining.size());
            remaining.forEach(ClientSession::terminateForShutdown);
            long hardDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
            while (!environment.sessions().isEmpty() && System.nanoTime() < hardDeadline) {
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        // Idle server connections end with a Terminate, as a client's would, rather than a reset.
        environment.upstreamPool().ifPresent(UpstreamPool::closeIdle);
        shutdownGroups(acceptors, workers);
        if (ownedHooks != null) {
            ownedHooks.close();
        }
        // After the sessions: their connection_close records are the last ones written.
        audit.ifPresent(AuditLog::close);
        LOG.info("pgpolicy stopped");
    }

    private static void shutdownGroups(EventLoopGroup acceptors, EventLoopGroup workers) {
        acceptors.shutdownGracefully(0, 2, TimeUnit.SECONDS);
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS);
        acceptors.terminationFuture().awaitUninterruptibly(3, TimeUnit.SECONDS);
        workers.terminationFuture().awaitUninterruptibly(3, TimeUnit.SECONDS);
    }

    /** Connection records name the policy set in force when the proxy enforces one. */
    private static java.util.function.Supplier<String> policyRevision(SessionHooks hooks) {
        if (hooks instanceof PolicyHooks policyHooks) {
            return () -> policyHooks.policy().current().revision().toString();
        }
        return () -> null;
    }

    private static Optional<AuditLog> openAudit(ProxyConfig config) {
        if (config.auditDir().isEmpty()) {
            return Optional.empty();
        }
        AuditConfig auditConfig = AuditConfig.defaults(config.auditDir().get())
                .withFailClosed(config.auditFailClosed())
                .withMaxFileBytes(config.auditMaxFileBytes());
        if (config.auditHmacKeyFile().isPresent()) {
            auditConfig = auditConfig.withHmacKeyFile(config.auditHmacKeyFile().get());
        }
        try {
            AuditLog log = AuditLog.open(auditConfig);
            LOG.info("audit log in {} ({}{})", log.directory(),
                    config.auditHmacKeyFile().isPresent() ? "HMAC-SHA256 chain" : "SHA-256 chain",
                    config.auditFailClosed() ? ", fail closed" : "");
            return Optional.of(log);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("cannot open the audit log in " + config.auditDir().get() + ": "
                    + e.getMessage(), e);
        }
    }

    private static CertifiedKey loadOrGenerateCertificate(ProxyConfig config) {
        if (config.tlsCert().isPresent()) {
            try {
                return CertifiedKey.load(config.tlsCert().get(), config.tlsKey().orElseThrow());
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("cannot use " + config.tlsCert().get() + " / "
                        + config.tlsKey().orElseThrow() + " as the proxy's TLS certificate and key: "
                        + TlsContexts.rootMessage(e), e);
            }
        }
        // Self-signed for the names a local client would use plus the listen address, so clients
        // can pin it by the fingerprint logged at start, or connect with sslmode=require.
        List<String> names = new ArrayList<>(CertificateAuthority.LOCALHOST_NAMES);
        List<InetAddress> addresses = new ArrayList<>(CertificateAuthority.loopbackAddresses());
        String host = config.listen().host();
        InetAddress literal = ipLiteral(host);
        if (literal == null) {
            if (!names.contains(host)) {
                names.add(host);
            }
        } else if (!literal.isAnyLocalAddress() && !addresses.contains(literal)) {
            addresses.add(literal);
        }
        return CertifiedKey.selfSignedServer(names, addresses,
                Validity.fromNow(CertificateAuthority.DEFAULT_LIFETIME), KeyAlgorithm.EC_P256);
    }

    private static InetAddress ipLiteral(String host) {
        boolean looksLikeIp = host.indexOf(':') >= 0 || host.chars().allMatch(c -> c == '.' || Character.isDigit(c));
        if (!looksLikeIp) {
            return null;
        }
        try {
            return InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            return null;
        }
    }
}
