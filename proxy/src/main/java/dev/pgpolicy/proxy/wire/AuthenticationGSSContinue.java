package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;
import java.util.Objects;

/**
 * AuthenticationGSSContinue (B): GSSAPI or SSPI authentication data for the next step.
 * <pre>
 * Byte1('R')
 * Int32    length
 * Int32(8) the authentication code
 * Byte[n]  the data, to the end of the message
 * </pre>
 * Authentication data is secret-bearing, so {@link #toString()} shows only its length.
 */
public record AuthenticationGSSContinue(Bytes data) implements Authentication {

    public AuthenticationGSSContinue {
        Objects.requireNonNull(data, "data");
    }

    @Override
    public int code() {
        return GSS_CONTINUE;
    }

    @Override
    public void encode(ByteBuf out) {
        int lengthIndex = WireWriter.beginFrame(out, TYPE);
        out.writeInt(GSS_CONTINUE);
        data.writeTo(out);
        WireWriter.endFrame(out, lengthIndex);
    }

    static AuthenticationGSSContinue read(WireReader body) {
        return new AuthenticationGSSContinue(body.readBytes(body.remaining(), "data"));
    }

    @Override
    public String toString() {
        return "AuthenticationGSSContinue[data=<" + data.length() + " bytes redacted>]";
    }
}
