package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;
import java.util.Objects;

/**
 * Describe (F): asks for a ParameterDescription and RowDescription (statement) or a RowDescription
 * (portal).
 * <pre>
 * Byte1('D')
 * Int32   length
 * Byte1   'S' (prepared statement) or 'P' (portal)
 * String  name ("" = the unnamed one)
 * </pre>
 */
public record Describe(TargetKind kind, String name) implements FrontendMessage {
    public static final char TYPE = 'D';

    public Describe {
        Objects.requireNonNull(kind, "kind");
        Checks.cString(name, "name");
    }

    @Override
    public void encode(ByteBuf out) {
        int lengthIndex = WireWriter.beginFrame(out, TYPE);
        out.writeByte(kind.code());
        WireWriter.writeCString(out, name);
        WireWriter.endFrame(out, lengthIndex);
    }

    static Describe read(WireReader body) {
        TargetKind kind = TargetKind.read(body);
        String name = body.readCString("name");
        body.expectEnd();
        return new Describe(kind, name);
    }
}
