package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;
import java.util.Objects;

/**
 * SASLResponse (F): a SASL exchange after the initial response (for SCRAM, the client-final-message of RFC 5802, which carries the proof).
 * <pre>
 * Byte1('p')
 * Int32   length
 * Byte[n] the data, to the end of the message
 * </pre>
 * Decoded with {@link FrontendMessages#decodeSaslResponse}, because the 'p' type byte alone does not say which
 * authentication message it is. The data is a credential, so {@link #toString()} shows only its
 * length.
 */
public record SASLResponse(Bytes data) implements FrontendMessage {
    public static final char TYPE = 'p';

    public SASLResponse {
        Objects.requireNonNull(data, "data");
    }

    @Override
    public void encode(ByteBuf out) {
        int lengthIndex = WireWriter.beginFrame(out, TYPE);
        data.writeTo(out);
        WireWriter.endFrame(out, lengthIndex);
    }

    static SASLResponse read(WireReader body) {
        return new SASLResponse(body.readBytes(body.remaining(), "data"));
    }

    @Override
    public String toString() {
        return "SASLResponse[data=<" + data.length() + " bytes redacted>]";
    }
}
