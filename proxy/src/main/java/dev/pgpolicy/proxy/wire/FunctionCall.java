package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * FunctionCall (F): the legacy fast-path function call interface.
 * <pre>
 * Byte1('F')
 * Int32    length
 * Int32    OID of the function to call
 * Int16    number of argument format codes: 0 (all text), 1 (applies to all), or one per argument
 * Int16[c] argument format codes (0 = text, 1 = binary)
 * Int16    number of arguments
 *   per argument: Int32 length (-1 = NULL, no bytes follow), Byte[n] value
 * Int16    result format code
 * </pre>
 * It runs a function by OID without any SQL text, so policy must treat it as a statement of its
 * own (deny unless allowed); a NULL argument is {@code Optional.empty()}.
 */
public record FunctionCall(int functionOid, List<Integer> argumentFormats, List<Optional<Bytes>> arguments,
                           int resultFormat) implements FrontendMessage {
    public static final char TYPE = 'F';

    public FunctionCall {
        argumentFormats = Checks.int16List(argumentFormats, "argumentFormats");
        arguments = Checks.count16(arguments, "arguments");
        Checks.int16(resultFormat, "resultFormat");
        if (argumentFormats.size() > 1 && argumentFormats.size() != arguments.size()) {
            throw new IllegalArgumentException("function call message has " + argumentFormats.size()
                    + " argument formats but " + arguments.size() + " arguments");
        }
    }

    @Override
    public void encode(ByteBuf out) {
        int lengthIndex = WireWriter.beginFrame(out, TYPE);
        out.writeInt(functionOid);
        out.writeShort(argumentFormats.size());
        for (int format : argumentFormats) {
            out.writeShort(format);
        }
        out.writeShort(arguments.size());
        for (Optional<Bytes> argument : arguments) {
            WireWriter.writeNullableValue(out, argument.orElse(null));
        }
        out.writeShort(resultFormat);
        WireWriter.endFrame(out, lengthIndex);
    }

    static FunctionCall read(WireReader body) {
        int oid = body.readInt32("function OID");
        List<Integer> formats = Bind.readFormats(body, "argument format");
        int count = body.readCount16("argument count", 4);
        if (formats.size() > 1 && formats.size() != count) {
            throw body.malformed(formats.size() + " argument formats but " + count + " arguments");
        }
        List<Optional<Bytes>> arguments = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            arguments.add(Optional.ofNullable(body.readNullableValue("argument " + (i + 1))));
        }
        int resultFormat = body.readInt16("result format");
        body.expectEnd();
        return new FunctionCall(oid, formats, arguments, resultFormat);
    }
}
