package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;

/**
 * Frame writing helpers: a typed frame is the type byte, an Int32 length that counts itself and
 * the body but not the type byte, then the body ("Message Formats", PostgreSQL protocol docs).
 */
final class WireWriter {
    private WireWriter() {
    }

    /** Writes the type byte and a length placeholder; returns the placeholder's index. */
    static int beginFrame(ByteBuf out, char type) {
        out.writeByte(type);
        int lengthIndex = out.writerIndex();
        out.writeInt(0);
        return lengthIndex;
    }

    /** Writes a length placeholder for an untyped startup packet; returns its index. */
    static int beginUntyped(ByteBuf out) {
        int lengthIndex = out.writerIndex();
        out.writeInt(0);
        return lengthIndex;
    }

    static void endFrame(ByteBuf out, int lengthIndex) {
        out.setInt(lengthIndex, out.writerIndex() - lengthIndex);
    }

    static void writeCString(ByteBuf out, String value) {
        ByteBufUtil.writeUtf8(out, value);
        out.writeByte(0);
    }

    static void writeNullableValue(ByteBuf out, Bytes value) {
        if (value == null) {
            out.writeInt(-1);
        } else {
            out.writeInt(value.length());
            value.writeTo(out);
        }
    }

    /** Writes a header-only message such as Sync: type byte and length 4. */
    static void writeEmpty(ByteBuf out, char type) {
        out.writeByte(type);
        out.writeInt(4);
    }
}
