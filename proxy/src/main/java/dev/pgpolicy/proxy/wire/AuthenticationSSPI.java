package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;

/**
 * AuthenticationSSPI (B): SSPI authentication is required.
 * <pre>
 * Byte1('R')
 * Int32(8)  length
 * Int32(9)  the authentication code
 * </pre>
 */
public record AuthenticationSSPI() implements Authentication {
    public static final AuthenticationSSPI INSTANCE = new AuthenticationSSPI();

    @Override
    public int code() {
        return SSPI;
    }

    @Override
    public void encode(ByteBuf out) {
        out.writeByte(TYPE);
        out.writeInt(8);
        out.writeInt(SSPI);
    }
}
