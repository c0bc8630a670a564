package dev.pgpolicy.proxy.admin;

import dev.pgpolicy.proxy.config.HostPort;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP admin endpoint ({@code --admin HOST:PORT}): health, readiness, Prometheus metrics,
 * sessions, policy and reload (routes in {@link AdminHandler}). It runs on its own single event
 * loop, so a slow scraper never shares a thread with client traffic, and a reload (which compiles
 * and tests a policy set) runs on its own thread.
 *
 * <p>Bound to a loopback address it is open to local processes, like PostgreSQL's own local
 * socket; bound anywhere else it refuses to start without a bearer token file, because the
 * endpoint can end sessions and show who is connected.
 */
public final class AdminServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(AdminServer.class);

    /** An idle keep-alive connection is closed after this long, so idle sockets cannot pile up. */
    private static final int IDLE_TIMEOUT_SECONDS = 30;
    /** Request line and headers: an Authorization header and a path fit easily. */
    private static final int MAX_INITIAL_LINE = 4096;
    private static final int MAX_HEADER_SIZE = 8192;
    /** No endpoint reads a body; a small bound keeps a client from making the proxy buffer one. */
    static final int MAX_BODY = 4096;

    private final EventLoopGroup group;
    private final Channel channel;
    private final ExecutorService reloads;

    private AdminServer(EventLoopGroup group, Channel channel, ExecutorService reloads) {
        this.group = group;
        this.channel = channel;
        this.reloads = reloads;
    }

    /**
     * Starts the endpoint. Throws {@link IllegalArgumentException} with a message for the operator
     * when it must not or cannot start: a non-loopback address without a token file, an unusable
     * token file, the port in use.
     */
    public static AdminServer start(HostPort listen, Optional<Path> tokenFile, AdminSources sources) {
        boolean loopback = isLoopback(listen.host());
        if (!loopback && tokenFile.isEmpty()) {
            throw new IllegalArgumentException("the admin endpoint on " + listen + " is reachable from other hosts:"
                    + " configure admin.token_file with a bearer token, or listen on a loopback address");
        }
        Optional<BearerToken> token = tokenFile.map(BearerToken::load);
        EventLoopGroup group = new NioEventLoopGroup(1, new DefaultThreadFactory("pgpolicy-admin"));
        ExecutorService reloads = Executors.newSingleThreadExecutor(new DefaultThreadFactory("pgpolicy-reload", true));
        AdminHandler handler = new AdminHandler(sources, token, reloads);
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel channel) {
                        channel.pipeline()
                                .addLast(new ReadTimeoutHandler(IDLE_TIMEOUT_SECONDS))
                                .addLast(new HttpServerCodec(MAX_INITIAL_LINE, MAX_HEADER_SIZE, MAX_BODY))
                                .addLast(new HttpObjectAggregator(MAX_BODY))
                                .addLast(handler);
                    }
                });
        Channel channel;
        try {
            channel = bootstrap.bind(listen.host(), listen.port()).syncUninterruptibly().channel();
        } catch (RuntimeException e) {
            reloads.shutdownNow();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(2, TimeUnit.SECONDS);
            throw new IllegalArgumentException("cannot listen for the admin endpoint on " + listen + ": " + e.getMessage(), e);
        }
        AdminServer server = new AdminServer(group, channel, reloads);
        LOG.info("admin endpoint listening on http://{}:{}/ ({})", listen.host(), server.address().getPort(),
                token.isPresent() ? "bearer token required" : "loopback only, no token");
        return server;
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        reloads.shutdownNow();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
    }

    /** True when every address the host name resolves to is a loopback address. */
    static boolean isLoopback(String host) {
        try {
            InetAddress[] addresses = InetAddress.getAllByName(host);
            return addresses.length > 0 && Arrays.stream(addresses).allMatch(InetAddress::isLoopbackAddress);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("cannot resolve the admin listen host '" + host + "'", e);
        }
    }
}
