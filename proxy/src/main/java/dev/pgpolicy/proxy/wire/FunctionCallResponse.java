package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;
import java.util.Objects;
import java.util.Optional;

/**
 * FunctionCallResponse (B): the result of a FunctionCall.
 * <pre>
 * Byte1('V')
 * Int32   length
 * Int32   length of the result value (-1 = NULL, no bytes follow)
 * Byte[n] the result value
 * </pre>
 */
public record FunctionCallResponse(Optional<Bytes> result) implements BackendMessage {
    public static final char TYPE = 'V';

    public FunctionCallResponse {
        Objects.requireNonNull(result, "result");
    }

    @Override
    public void encode(ByteBuf out) {
        int lengthIndex = WireWriter.beginFrame(out, TYPE);
        WireWriter.writeNullableValue(out, result.orElse(null));
        WireWriter.endFrame(out, lengthIndex);
    }

    static FunctionCallResponse read(WireReader body) {
        Bytes result = body.readNullableValue("result");
        body.expectEnd();
        return new FunctionCallResponse(Optional.ofNullable(result));
    }

    @Override
    public String toString() {
        return "FunctionCallResponse[result=" + result.map(r -> r.length() + " bytes").orElse("NULL") + "]";
    }
}
