package dev.pgpolicy.proxy.session;

import dev.pgpolicy.proxy.server.ProxyConfig;
import dev.pgpolicy.proxy.wire.ProtocolException;
import dev.pgpolicy.proxy.wire.SSLRequest;
import dev.pgpolicy.proxy.wire.SqlState;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.ssl.SslHandler;
import java.util.List;
import java.util.function.Consumer;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;

/**
 * Asks the server for TLS the way libpq does: SSLRequest, one byte of answer, then the handshake
 * on the same connection ("SSL Session Encryption"). Replaces itself with the SslHandler.
 */
final class UpstreamTlsNegotiator extends ByteToMessageDecoder {

    private final SessionEnvironment environment;
    private final Runnable onReady;
    private final Consumer<Throwable> onFailure;
    private boolean answered;

    UpstreamTlsNegotiator(SessionEnvironment environment, Runnable onReady, Consumer<Throwable> onFailure) {
        this.environment = environment;
        this.onReady = onReady;
        this.onFailure = onFailure;
        setSingleDecode(true);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        ctx.writeAndFlush(SSLRequest.INSTANCE.encode(ctx.alloc()));
        super.channelActive(ctx);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (answered || !in.isReadable()) {
            return;
        }
        answered = true;
        byte answer = in.readByte();
        ProxyConfig config = environment.config();
        String where = "the upstream server at " + config.upstream();
        switch (answer) {
            case 'S':
                if (in.isReadable()) {
                    // CVE-2021-23222: bytes before the handshake were not protected by it.
                    throw new ProtocolException(SqlState.CONNECTION_FAILURE,
                            where + " sent unencrypted data after its SSL response");
                }
                SslHandler tls = newHandler(ctx, config);
                ctx.pipeline().replace(this, "upstream-tls", tls);
                tls.handshakeFuture().addListener(done -> {
                    if (done.isSuccess()) {
                        onReady.run();
                    } else {
                        onFailure.accept(new SessionException(SqlState.CONNECTION_FAILURE,
                                "TLS handshake with " + where + " failed (upstream TLS "
                                        + config.upstreamTls().configName() + "): " + rootMessage(done.cause()),
                                done.cause()));
                    }
                });
                return;
            case 'N':
                throw new SessionException(SqlState.CONNECTION_FAILURE, where
                        + " does not accept TLS connections, but upstream TLS is " + config.upstreamTls().configName());
            default:
                throw new SessionException(SqlState.CONNECTION_FAILURE,
                        where + " answered the SSL request with an unexpected byte 0x" + Integer.toHexString(answer & 0xFF));
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        onFailure.accept(cause);
    }

    private SslHandler newHandler(ChannelHandlerContext ctx, ProxyConfig config) {
        SslHandler handler = environment.upstreamTls().newHandler(ctx.alloc(), config.upstream().host(), config.upstream().port());
        handler.setHandshakeTimeoutMillis(config.handshakeTimeout().toMillis());
        if (config.upstreamTls() == ProxyConfig.UpstreamTls.VERIFY_FULL) {
            // RFC 2818/6125 name checks against subjectAltName (DNS names and IP addresses), as libpq's verify-full.
            SSLEngine engine = handler.engine();
            SSLParameters parameters = engine.getSSLParameters();
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
            engine.setSSLParameters(parameters);
        }
        return handler;
    }

    static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage();
        return message == null ? root.getClass().getSimpleName() : message;
    }
}
