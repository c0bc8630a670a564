package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;

/**
 * AuthenticationCleartextPassword (B): a cleartext password is required.
 * <pre>
 * Byte1('R')
 * Int32(8)  length
 * Int32(3)  the authentication code
 * </pre>
 */
public record AuthenticationCleartextPassword() implements Authentication {
    public static final AuthenticationCleartextPassword INSTANCE = new AuthenticationCleartextPassword();

    @Override
    public int code() {
        return CLEARTEXT_PASSWORD;
    }

    @Override
    public void encode(ByteBuf out) {
        out.writeByte(TYPE);
        out.writeInt(8);
        out.writeInt(CLEARTEXT_PASSWORD);
    }
}
