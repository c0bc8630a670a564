package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Bind (F): binds parameter values to a prepared statement, creating a portal.
 * <pre>
 * Byte1('B')
 * Int32    length
 * String   destination portal name ("" = the unnamed portal)
 * String   source prepared statement name
 * Int16    number of parameter format codes: 0 (all text), 1 (applies to all), or one per parameter
 * Int16[c] parameter format codes (0 = text, 1 = binary)
 * Int16    number of parameter values
 *   per value: Int32 length (-1 = NULL, no bytes follow), Byte[n] value
 * Int16    number of result-column format codes: 0 (all text), 1 (applies to all), or one per column
 * Int16[r] result-column format codes
 * </pre>
 * A NULL parameter is {@code Optional.empty()}. The format-code count rule is checked here, as
 * PostgreSQL checks it ("bind message has %d parameter formats but %d parameters", 08P01); the
 * result format codes matter to masking, which must know which columns arrive in binary.
 */
public record Bind(String portalName, String statementName, List<Integer> parameterFormats,
                   List<Optional<Bytes>> parameters, List<Integer> resultFormats) implements FrontendMessage {
    public static final char TYPE = 'B';

    public Bind {
        Checks.cString(portalName, "portalName");
        Checks.cString(statementName, "statementName");
        parameterFormats = Checks.int16List(parameterFormats, "parameterFormats");
        parameters = Checks.count16(parameters, "parameters");
        resultFormats = Checks.int16List(resultFormats, "resultFormats");
        int formats = parameterFormats.size();
        if (formats > 1 && formats != parameters.size()) {
            throw new IllegalArgumentException("bind message has " + formats + " parameter formats but "
                    + parameters.size() + " parameters");
        }
    }

    /**
     * The format code of parameter {@code index}, resolving the 0/1/n shorthand: 0 codes means
     * text for all, 1 code applies to all.
     */
    public int parameterFormat(int index) {
        if (index < 0 || index >= parameters.size()) {
            throw new IndexOutOfBoundsException(index);
        }
        return switch (parameterFormats.size()) {
            case 0 -> 0;
            case 1 -> parameterFormats.get(0);
            default -> parameterFormats.get(index);
        };
    }

    /** The format code requested for result column {@code index}, resolving the 0/1/n shorthand. */
    public int resultFormat(int index) {
        if (index < 0) {
            throw new IndexOutOfBoundsException(index);
        }
        return switch (resultFormats.size()) {
            case 0 -> 0;
            case 1 -> resultFormats.get(0);
            default -> index < resultFormats.size() ? resultFormats.get(index) : 0;
        };
    }

    @Override
    public void encode(ByteBuf out) {
        int lengthIndex = WireWriter.beginFrame(out, TYPE);
        WireWriter.writeCString(out, portalName);
        WireWriter.writeCString(out, statementName);
        out.writeShort(parameterFormats.size());
        for (int format : parameterFormats) {
            out.writeShort(format);
        }
        out.writeShort(parameters.size());
        for (Optional<Bytes> value : parameters) {
            WireWriter.writeNullableValue(out, value.orElse(null));
        }
        out.writeShort(resultFormats.size());
        for (int format : resultFormats) {
            out.writeShort(format);
        }
        WireWriter.endFrame(out, lengthIndex);
    }

    static Bind read(WireReader body) {
        String portal = body.readCString("portal name");
        String statement = body.readCString("statement name");
        List<Integer> parameterFormats = readFormats(body, "parameter format");
        int count = body.readCount16("parameter count", 4);
        if (parameterFormats.size() > 1 && parameterFormats.size() != count) {
            throw body.malformed(parameterFormats.size() + " parameter formats but " + count + " parameters");
        }
        List<Optional<Bytes>> parameters = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            parameters.add(Optional.ofNullable(body.readNullableValue("parameter " + (i + 1))));
        }
        List<Integer> resultFormats = readFormats(body, "result format");
        body.expectEnd();
        return new Bind(portal, statement, parameterFormats, parameters, resultFormats);
    }

    static List<Integer> readFormats(WireReader body, String what) {
        int count = body.readCount16(what + " count", 2);
        List<Integer> formats = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            formats.add((int) body.readInt16(what));
        }
        return formats;
    }
}
