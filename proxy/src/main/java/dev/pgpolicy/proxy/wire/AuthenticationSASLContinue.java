package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;
import java.util.Objects;

/**
 * AuthenticationSASLContinue (B): the next SASL challenge (for SCRAM, the server-first-message of RFC 5802, with the salt and iteration count).
 * <pre>
 * Byte1('R')
 * Int32    length
 * Int32(11) the authentication code
 * Byte[n]  the data, to the end of the message
 * </pre>
 * Authentication data is secret-bearing, so {@link #toString()} shows only its length.
 */
public record AuthenticationSASLContinue(Bytes data) implements Authentication {

    public AuthenticationSASLContinue {
        Objects.requireNonNull(data, "data");
    }

    @Override
    public int code() {
        return SASL_CONTINUE;
    }

    @Override
    public void encode(ByteBuf out) {
        int lengthIndex = WireWriter.beginFrame(out, TYPE);
        out.writeInt(SASL_CONTINUE);
        data.writeTo(out);
        WireWriter.endFrame(out, lengthIndex);
    }

    static AuthenticationSASLContinue read(WireReader body) {
        return new AuthenticationSASLContinue(body.readBytes(body.remaining(), "data"));
    }

    @Override
    public String toString() {
        return "AuthenticationSASLContinue[data=<" + data.length() + " bytes redacted>]";
    }
}
