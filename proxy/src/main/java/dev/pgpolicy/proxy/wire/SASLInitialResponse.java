package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;
import java.util.Objects;
import java.util.Optional;

/**
 * SASLInitialResponse (F): the chosen SASL mechanism and the client's first message.
 * <pre>
 * Byte1('p')
 * Int32   length
 * String  mechanism name, e.g. "SCRAM-SHA-256" or "SCRAM-SHA-256-PLUS"
 * Int32   length of the initial response (-1 = none)
 * Byte[n] the initial response (for SCRAM, the client-first-message of RFC 5802)
 * </pre>
 * The response carries the SCRAM nonce and channel-binding flags, so {@link #toString()} shows
 * only its length.
 */
public record SASLInitialResponse(String mechanism, Optional<Bytes> initialResponse) implements FrontendMessage {
    public static final char TYPE = 'p';

    public SASLInitialResponse {
        Checks.cString(mechanism, "mechanism");
        Objects.requireNonNull(initialResponse, "initialResponse");
    }

    public static SASLInitialResponse of(String mechanism, Bytes initialResponse) {
        return new SASLInitialResponse(mechanism, Optional.of(initialResponse));
    }

    @Override
    public void encode(ByteBuf out) {
        int lengthIndex = WireWriter.beginFrame(out, TYPE);
        WireWriter.writeCString(out, mechanism);
        WireWriter.writeNullableValue(out, initialResponse.orElse(null));
        WireWriter.endFrame(out, lengthIndex);
    }

    static SASLInitialResponse read(WireReader body) {
        String mechanism = body.readCString("mechanism name");
        Bytes response = body.readNullableValue("initial response");
        body.expectEnd();
        return new SASLInitialResponse(mechanism, Optional.ofNullable(response));
    }

    @Override
    public String toString() {
        return "SASLInitialResponse[mechanism=" + mechanism + ", initialResponse="
                + initialResponse.map(r -> "<" + r.length() + " bytes redacted>").orElse("none") + "]";
    }
}
