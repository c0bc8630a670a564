package dev.pgpolicy.proxy.session;

import dev.pgpolicy.proxy.scram.ChannelBinding;
import dev.pgpolicy.proxy.server.ProxyConfig;
import dev.pgpolicy.proxy.wire.CancelRequest;
import dev.pgpolicy.proxy.wire.SqlState;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens connections to the server on a session's event loop: one per session, or one for the
 * {@link UpstreamPool} to lend to sessions in turn, and a short-lived one per cancel request. With upstream TLS configured, the TLS negotiation runs before anything else is sent.
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

    /** tls-server-end-point of the server's certificate, when {@code channel} is encrypted. */
    static Optional<ChannelBinding> serverCertificateBinding(Channel channel) {
        SslHandler handler = channel.pipeline().get(SslHandler.class);
        if (handler == null) {
            return Optional.empty();
        }
        try {
            Certificate[] chain = handler.engine().getSession().getPeerCertificates();
            if (chain.length > 0 && chain[0] instanceof X509Certificate certificate) {
                return ChannelBinding.tlsServerEndPoint(certificate);
            }
            return Optional.empty();
        } catch (SSLPeerUnverifiedException e) {
            return Optional.empty();
        }
    }

    /**
     * How long to wait for the server to close a cancel connection, which it does once it has
     * signalled the backend; a server that keeps it open longer is not waited for.
     */
    private static final long CANCEL_DELIVERY_WAIT_MILLIS = 2_000;

    /**
     * Sends the server's own cancel key on a new connection, as a client would (no answer comes
     * back). The returned future completes when the server has closed that connection, that is
     * once it has signalled the backend (or when delivery failed or took too long): from then on
     * the cancel cannot hit a statement the session sends later.
     */
    Future<Void> cancel(EventLoop loop, CancelKeys.UpstreamKey key, String sessionId) {
        Promise<Void> delivered = loop.newPromise();
        Channel[] channel = new Channel[1];
        Consumer<Throwable> failed = cause -> {
            LOG.warn("session {}: cancel request not delivered: {}", sessionId, UpstreamTlsNegotiator.rootMessage(cause));
            if (channel[0] != null) {
                channel[0].close();
            }
            delivered.trySuccess(null);
        };
        channel[0] = connect(loop, () -> {
            CancelRequest request = new CancelRequest(key.processId(), key.secretKey());
            channel[0].writeAndFlush(request.encode(channel[0].alloc()));
            loop.schedule(() -> channel[0].close(), CANCEL_DELIVERY_WAIT_MILLIS, TimeUnit.MILLISECONDS);
        }, failed);
        channel[0].closeFuture().addListener(closed -> delivered.trySuccess(null));
        return delivered;
    }
}
