package dev.pgpolicy.proxy.session;

import dev.pgpolicy.proxy.identity.LoginThrottle;
import dev.pgpolicy.proxy.identity.UserDirectory;
import dev.pgpolicy.proxy.scram.ChannelBinding;
import dev.pgpolicy.proxy.scram.MockVerifiers;
import dev.pgpolicy.proxy.server.ProxyConfig;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslContext;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What all sessions of one proxy share: configuration, TLS contexts, cancel keys, the session
 * count behind the connection limit, and the hooks. Created once by the server.
 */
public final class SessionEnvironment {

    private static final WriteBufferWaterMark RELAY_WATER_MARK = new WriteBufferWaterMark(64 * 1024, 256 * 1024);

    private final ProxyConfig config;
    private final SslContext clientFacingTls;
    private final SslContext upstreamTls;
    private final Class<? extends SocketChannel> socketChannelClass;
    private final SessionHooks hooks;
    private final SessionListener listener;
    private final CancelKeys cancelKeys = new CancelKeys();
    private final Set<ClientSession> sessions = ConcurrentHashMap.newKeySet();
    private final AtomicInteger authenticatingOrReady = new AtomicInteger();
    private final SecureRandom random = new SecureRandom();
    private final UserDirectory users;
    private final MockVerifiers mockVerifiers;
    private final LoginThrottle loginThrottle;
    private final Optional<ChannelBinding> ownCertificateBinding;
    private final UpstreamPool upstreamPool;

    /**
     * @param upstreamTls null when upstream TLS is disabled
     */
    public SessionEnvironment(ProxyConfig config, SslContext clientFacingTls, SslContext upstreamTls,
            Class<? extends SocketChannel> socketChannelClass, SessionHooks hooks, SessionListener listener) {
        this(config, clientFacingTls, upstreamTls, socketChannelClass, hooks, listener, null, Optional.empty());
    }

    /**
     * @param upstreamTls           null when upstream TLS is disabled
     * @param users                 the users file in {@code auth.mode: proxy}; null in passthrough
     * @param ownCertificateBinding tls-server-end-point of the proxy's certificate, offered to TLS clients
     *                              as SCRAM-SHA-256-PLUS in proxy mode
     */
    public SessionEnvironment(ProxyConfig config, SslContext clientFacingTls, SslContext upstreamTls,
            Class<? extends SocketChannel> socketChannelClass, SessionHooks hooks, SessionListener listener,
            UserDirectory users, Optional<ChannelBinding> ownCertificateBinding) {
        this.config = Objects.requireNonNull(config);
        this.clientFacingTls = Objects.requireNonNull(clientFacingTls);
        this.upstreamTls = upstreamTls;
        this.socketChannelClass = Objects.requireNonNull(socketChannelClass);
        this.hooks = Objects.requireNonNull(hooks);
        this.listener = Objects.requireNonNull(listener);
        if ((upstreamTls == null) != (config.upstreamTls() == ProxyConfig.UpstreamTls.DISABLE)) {
            throw new IllegalArgumentException("upstream TLS context does not match mode " + config.upstreamTls());
        }
        if ((users == null) != (config.authMode() == ProxyConfig.AuthMode.PASSTHROUGH)) {
            throw new IllegalArgumentException("a users file is needed exactly in auth mode proxy; mode is "
                    + config.authMode());
        }
        this.users = users;
        // One secret per proxy: an unknown user gets the same mock salt on every attempt, as a real user would.
        this.mockVerifiers = users == null ? null : MockVerifiers.random(users.current().typicalIterations());
        this.ownCertificateBinding = Objects.requireNonNull(ownCertificateBinding);
        this.loginThrottle = users == null ? null : new LoginThrottle(config.loginThrottle());
        // Only proxy mode can reuse connections: in passthrough each one is logged in with the client's own credentials.
        this.upstreamPool = users != null && config.upstreamPool().enabled()
                ? new UpstreamPool(config.upstreamPool(), new UpstreamConnector(this), upstreamTls != null, users)
                : null;
        if (users != null) {
            users.onChange(this::endSessionsOfChangedUsers);
        }
    }

    public ProxyConfig config() {
        return config;
    }

    SslContext clientFacingTls() {
        return clientFacingTls;
    }

    /** Null when upstream TLS is disabled. */
    SslContext upstreamTls() {
        return upstreamTls;
    }

    /** The users file; present exactly in {@code auth.mode: proxy}. */
    public Optional<UserDirectory> users() {
        return Optional.ofNullable(users);
    }

    /**
     * A reload removed or changed users: their sessions end, since they were authenticated (or
     * are being authenticated) against credentials, groups or a service account that no longer
     * hold. Sessions of unchanged users go on. Idle pooled connections of changed or removed
     * service accounts are closed, so no session is served by a login the file no longer allows.
     */
    private void endSessionsOfChangedUsers(UserDirectory.Applied applied) {
        if (upstreamPool != null) {
            upstreamPool.retainAccountsOf(applied.snapshot());
        }
        for (ClientSession session : sessions) {
            session.proxyUserName().ifPresent(name -> {
                if (applied.removed().contains(name)) {
                    session.terminateForUsersFile("user \"" + name + "\" was removed from the users file");
                } else if (applied.changed().contains(name)) {
                    session.terminateForUsersFile("the entry of user \"" + name + "\" in the users file changed");
                }
            });
        }
    }

    /** The upstream connection pool: present in {@code auth.mode: proxy} unless {@code upstream.pool.enabled} is false. */
    public Optional<UpstreamPool> upstreamPool() {
        return Optional.ofNullable(upstreamPool);
    }

    /** The failed-login throttle of {@code auth.mode: proxy}, for its counters. */
    public Optional<LoginThrottle> loginThrottle() {
        return Optional.ofNullable(loginThrottle);
    }

    MockVerifiers mockVerifiers() {
        return mockVerifiers;
    }

    Optional<ChannelBinding> ownCertificateBinding() {
        return ownCertificateBinding;
    }

    SessionHooks hooks() {
        return hooks;
    }

    SessionListener listener() {
        return listener;
    }

    public CancelKeys cancelKeys() {
        return cancelKeys;
    }

    /** Every session from accept to close; the server waits for it to drain on shutdown. */
    public Set<ClientSession> sessions() {
        return sessions;
    }

    /**
     * Takes one of the {@code max client connections} slots. Connections that only negotiate TLS
     * or send a CancelRequest do not hold one, as in PostgreSQL, so cancelling still works when
     * the proxy is full.
     */
    boolean tryAcquireSessionSlot() {
        while (true) {
            int current = authenticatingOrReady.get();
            if (current >= config.maxClientConnections()) {
                return false;
            }
            if (authenticatingOrReady.compareAndSet(current, current + 1)) {
                return true;
            }
        }
    }

    void releaseSessionSlot() {
        authenticatingOrReady.decrementAndGet();
    }

    /** A bootstrap for one upstream connection on the session's own event loop (no thread hop in the relay). */
    Bootstrap upstreamBootstrap(EventLoop loop) {
        long connectTimeout = Math.min(Integer.MAX_VALUE, config.handshakeTimeout().toMillis());
        return new Bootstrap()
                .group(loop)
                .channel(socketChannelClass)
                .option(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) connectTimeout)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, RELAY_WATER_MARK);
    }

    /** Random hexadecimal id for sessions and error correlation. */
    String randomId(int bytes) {
        byte[] id = new byte[bytes];
        random.nextBytes(id);
        return HexFormat.of().formatHex(id);
    }
}
