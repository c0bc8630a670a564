package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;

/**
 * AuthenticationKerberosV5 (B): Kerberos V5 authentication is required (no longer supported by PostgreSQL servers; decoded so that every 'R' code is understood).
 * <pre>
 * Byte1('R')
 * Int32(8)  length
 * Int32(2)  the authentication code
 * </pre>
 */
public record AuthenticationKerberosV5() implements Authentication {
    public static final AuthenticationKerberosV5 INSTANCE = new AuthenticationKerberosV5();

    @Override
    public int code() {
        return KERBEROS_V5;
    }

    @Override
    public void encode(ByteBuf out) {
        out.writeByte(TYPE);
        out.writeInt(8);
        out.writeInt(KERBEROS_V5);
    }
}
