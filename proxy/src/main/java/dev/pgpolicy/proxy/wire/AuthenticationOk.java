package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;

/**
 * AuthenticationOk (B): authentication succeeded (or none was needed).
 * <pre>
 * Byte1('R')
 * Int32(8)  length
 * Int32(0)  the authentication code
 * </pre>
 */
public record AuthenticationOk() implements Authentication {
    public static final AuthenticationOk INSTANCE = new AuthenticationOk();

    @Override
    public int code() {
        return OK;
    }

    @Override
    public void encode(ByteBuf out) {
        out.writeByte(TYPE);
        out.writeInt(8);
        out.writeInt(OK);
    }
}
