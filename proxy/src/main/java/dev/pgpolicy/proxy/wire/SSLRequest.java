package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;

/**
 * SSLRequest (F): asks to switch to TLS before the StartupMessage; answered with one byte,
 * 'S' or 'N'.
 * <pre>
 * Int32(8)         length
 * Int32(80877103)  the SSL request code, 1234.5679
 * </pre>
 */
public record SSLRequest() implements StartupPacket {

    public static final SSLRequest INSTANCE = new SSLRequest();

    @Override
    public void encode(ByteBuf out) {
        out.writeInt(8);
        out.writeInt(SSL_REQUEST_CODE);
    }
}
