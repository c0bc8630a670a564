package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;

/**
 * AuthenticationGSS (B): GSSAPI authentication is required.
 * <pre>
 * Byte1('R')
 * Int32(8)  length
 * Int32(7)  the authentication code
 * </pre>
 */
public record AuthenticationGSS() implements Authentication {
    public static final AuthenticationGSS INSTANCE = new AuthenticationGSS();

    @Override
    public int code() {
        return GSS;
    }

    @Override
    public void encode(ByteBuf out) {
        out.writeByte(TYPE);
        out.writeInt(8);
        out.writeInt(GSS);
    }
}
