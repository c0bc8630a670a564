package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;

/**
 * GSSENCRequest (F): asks for GSSAPI transport encryption; answered with one byte, 'G' or 'N'.
 * <pre>
 * Int32(8)         length
 * Int32(80877104)  the GSSAPI encryption request code, 1234.5680
 * </pre>
 */
public record GSSENCRequest() implements StartupPacket {

    public static final GSSENCRequest INSTANCE = new GSSENCRequest();

    @Override
    public void encode(ByteBuf out) {
        out.writeInt(8);
        out.writeInt(GSSENC_REQUEST_CODE);
    }
}
