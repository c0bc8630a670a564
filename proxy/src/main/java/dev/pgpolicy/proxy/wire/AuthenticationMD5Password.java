package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;
import java.util.Objects;

/**
 * AuthenticationMD5Password (B): an MD5-hashed password is required.
 * <pre>
 * Byte1('R')
 * Int32(12)  length
 * Int32(5)   the authentication code
 * Byte4      the salt for the hash
 * </pre>
 */
public record AuthenticationMD5Password(Bytes salt) implements Authentication {
    public static final int SALT_LENGTH = 4;

    public AuthenticationMD5Password {
        Objects.requireNonNull(salt, "salt");
        if (salt.length() != SALT_LENGTH) {
            throw new IllegalArgumentException("MD5 salt must be 4 bytes, not " + salt.length());
        }
    }

    @Override
    public int code() {
        return MD5_PASSWORD;
    }

    @Override
    public void encode(ByteBuf out) {
        out.writeByte(TYPE);
        out.writeInt(12);
        out.writeInt(MD5_PASSWORD);
        salt.writeTo(out);
    }

    static AuthenticationMD5Password read(WireReader body) {
        Bytes salt = body.readBytes(SALT_LENGTH, "salt");
        body.expectEnd();
        return new AuthenticationMD5Password(salt);
    }
}
