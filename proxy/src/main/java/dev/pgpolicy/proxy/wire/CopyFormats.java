package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;
import java.util.List;

/** The body shared by CopyInResponse, CopyOutResponse and CopyBothResponse. */
final class CopyFormats {
    private CopyFormats() {
    }

    static void checkOverall(int overallFormat) {
        if (overallFormat != 0 && overallFormat != 1) {
            throw new IllegalArgumentException("overall COPY format must be 0 or 1, not " + overallFormat);
        }
    }

    static void write(ByteBuf out, char type, int overallFormat, List<Integer> columnFormats) {
        int lengthIndex = WireWriter.beginFrame(out, type);
        out.writeByte(overallFormat);
        out.writeShort(columnFormats.size());
        for (int format : columnFormats) {
            out.writeShort(format);
        }
        WireWriter.endFrame(out, lengthIndex);
    }

    static int readOverall(WireReader body) {
        int overall = body.readByte("overall format");
        if (overall != 0 && overall != 1) {
            throw body.malformed("overall format must be 0 or 1, not " + overall);
        }
        return overall;
    }

    static List<Integer> readColumns(WireReader body) {
        List<Integer> formats = Bind.readFormats(body, "column format");
        body.expectEnd();
        return formats;
    }
}
