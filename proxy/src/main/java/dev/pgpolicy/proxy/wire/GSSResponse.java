package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;
import java.util.Objects;

/**
 * GSSResponse (F): a GSSAPI or SSPI token.
 * <pre>
 * Byte1('p')
 * Int32   length
 * Byte[n] the data, to the end of the message
 * </pre>
 * Decoded with {@link FrontendMessages#decodeGssResponse}, because the 'p' type byte alone does not say which
 * authentication message it is. The data is a credential, so {@link #toString()} shows only its
 * length.
 */
public record GSSResponse(Bytes data) implements FrontendMessage {
    public static final char TYPE = 'p';

    public GSSResponse {
        Objects.requireNonNull(data, "data");
    }

    @Override
    public void encode(ByteBuf out) {
        int lengthIndex = WireWriter.beginFrame(out, TYPE);
        data.writeTo(out);
        WireWriter.endFrame(out, lengthIndex);
    }

    static GSSResponse read(WireReader body) {
        return new GSSResponse(body.readBytes(body.remaining(), "data"));
    }

    @Override
    public String toString() {
        return "GSSResponse[data=<" + data.length() + " bytes redacted>]";
    }
}
