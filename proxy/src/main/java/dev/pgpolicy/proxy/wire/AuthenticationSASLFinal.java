package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;
import java.util.Objects;

/**
 * AuthenticationSASLFinal (B): the SASL outcome data (for SCRAM, the server-final-message with the server signature).
 * <pre>
 * Byte1('R')
 * Int32    length
 * Int32(12) the authentication code
 * Byte[n]  the data, to the end of the message
 * </pre>
 * Authentication data is secret-bearing, so {@link #toString()} shows only its length.
 */
public record AuthenticationSASLFinal(Bytes data) implements Authentication {

    public AuthenticationSASLFinal {
        Objects.requireNonNull(data, "data");
    }

    @Override
    public int code() {
        return SASL_FINAL;
    }

    @Override
    public void encode(ByteBuf out) {
        int lengthIndex = WireWriter.beginFrame(out, TYPE);
        out.writeInt(SASL_FINAL);
        data.writeTo(out);
        WireWriter.endFrame(out, lengthIndex);
    }

    static AuthenticationSASLFinal read(WireReader body) {
        return new AuthenticationSASLFinal(body.readBytes(body.remaining(), "data"));
    }

    @Override
    public String toString() {
        return "AuthenticationSASLFinal[data=<" + data.length() + " bytes redacted>]";
    }
}
