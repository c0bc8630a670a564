package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;

/**
 * AuthenticationSCMCredential (B): an SCM credentials message is required (pre-9.1 servers only; decoded so that every 'R' code is understood).
 * <pre>
 * Byte1('R')
 * Int32(8)  length
 * Int32(6)  the authentication code
 * </pre>
 */
public record AuthenticationSCMCredential() implements Authentication {
    public static final AuthenticationSCMCredential INSTANCE = new AuthenticationSCMCredential();

    @Override
    public int code() {
        return SCM_CREDENTIAL;
    }

    @Override
    public void encode(ByteBuf out) {
        out.writeByte(TYPE);
        out.writeInt(8);
        out.writeInt(SCM_CREDENTIAL);
    }
}
