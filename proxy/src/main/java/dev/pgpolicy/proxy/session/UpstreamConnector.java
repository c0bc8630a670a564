package dev.pgpolicy.proxy.session;

import dev.pgpolicy.proxy.server.ProxyConfig;
import dev.pgpolicy.proxy.wire.CancelRequest;
import dev.pgpolicy.proxy.wire.SqlState;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens connections to the server on a session's event loop: one per session (never shared, so a
 * reconnecting client always gets a fresh server session), and a short-lived one per cancel
 * request. With upstream TLS configured, the TLS negotiation runs before anything else is sent.
 */
final class UpstreamConnector {

    private static final Logger LOG = LoggerFactory.getLogger(UpstreamConnector.class);

    private final SessionEnvironment environment;

    UpstreamConnector(SessionEnvironment environment) {
        this.environment = environment;
    }

    /**
     * Connects and installs {@code handlers} behind the TLS layer (when configured). {@code ready}
     * runs once the connection can carry the StartupMessage; {@code failed} gets every failure
     * on the way there as a {@link SessionException} (08006) or the negotiator's protocol error.
     */
    Channel connect(EventLoop loop, Runnable ready, Consumer<Throwable> failed, ChannelHandler... handlers) {
        ProxyConfig config = environment.config();
        ChannelFuture connect = environment.upstreamBootstrap(loop)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel channel) {
                        if (environment.upstreamTls() != null) {
                            channel.pipeline().addLast("upstream-ssl-request",
                                    new UpstreamTlsNegotiator(environment, ready, failed));
                        }
                        channel.pipeline().addLast(handlers);
                    }
                })
                .connect(config.upstream().host(), config.upstream().port());
        connect.addListener((ChannelFutureListener) done -> {
            if (!done.isSuccess()) {
                failed.accept(new SessionException(SqlState.CONNECTION_FAILURE, "could not connect to the upstream server at "
                        + config.upstream() + ": " + UpstreamTlsNegotiator.rootMessage(done.cause()), done.cause()));
            } else if (environment.upstreamTls() == null) {
                ready.run();
            }
        });
        return connect.channel();
    }

    /** Sends the server's own cancel key on a new connection, as a client would (no answer comes back). */
    void cancel(EventLoop loop, CancelKeys.UpstreamKey key, String sessionId) {
        Channel[] channel = new Channel[1];
        Consumer<Throwable> failed = cause -> {
            LOG.warn("session {}: cancel request not delivered: {}", sessionId, UpstreamTlsNegotiator.rootMessage(cause));
            if (channel[0] != null) {
                channel[0].close();
            }
        };
        channel[0] = connect(loop, () -> {
            CancelRequest request = new CancelRequest(key.processId(), key.secretKey());
            channel[0].writeAndFlush(request.encode(channel[0].alloc())).addListener(ChannelFutureListener.CLOSE);
        }, failed);
    }
}
