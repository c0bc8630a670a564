package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;
import java.util.Objects;

/**
 * Close (F): closes a prepared statement or portal.
 * <pre>
 * Byte1('C')
 * Int32   length
 * Byte1   'S' (prepared statement) or 'P' (portal)
 * String  name ("" = the unnamed one)
 * </pre>
 */
public record Close(TargetKind kind, String name) implements FrontendMessage {
    public static final char TYPE = 'C';

    public Close {
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

    static Close read(WireReader body) {
        TargetKind kind = TargetKind.read(body);
        String name = body.readCString("name");
        body.expectEnd();
        return new Close(kind, name);
    }
}
