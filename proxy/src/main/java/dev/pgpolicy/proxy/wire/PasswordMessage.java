package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;
import java.util.Objects;

/**
 * PasswordMessage (F): the answer to AuthenticationCleartextPassword or AuthenticationMD5Password.
 * <pre>
 * Byte1('p')
 * Int32   length
 * String  the password (cleartext, or "md5" followed by the hex MD5 digest)
 * </pre>
 * The 'p' type byte is shared with SASLInitialResponse, SASLResponse and GSSResponse; only the
 * authentication stage tells them apart, so it is decoded with
 * {@link FrontendMessages#decodePassword}. The password stays bytes because its encoding is the
 * client's, and {@link #toString()} never shows it.
 */
public record PasswordMessage(Bytes password) implements FrontendMessage {
    public static final char TYPE = 'p';

    public PasswordMessage {
        Objects.requireNonNull(password, "password");
        if (password.containsZero()) {
            throw new IllegalArgumentException("password must not contain a NUL byte");
        }
    }

    public static PasswordMessage of(String password) {
        return new PasswordMessage(Bytes.utf8(password));
    }

    @Override
    public void encode(ByteBuf out) {
        int lengthIndex = WireWriter.beginFrame(out, TYPE);
        password.writeTo(out);
        out.writeByte(0);
        WireWriter.endFrame(out, lengthIndex);
    }

    static PasswordMessage read(WireReader body) {
        Bytes password = body.readCStringBytes("password");
        body.expectEnd();
        return new PasswordMessage(password);
    }

    @Override
    public String toString() {
        return "PasswordMessage[password=<redacted>]";
    }
}
