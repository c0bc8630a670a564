package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;
import java.util.List;

/**
 * CopyOutResponse (B): COPY TO STDOUT data follows.
 * <pre>
 * Byte1('H')
 * Int32     length
 * Int8      overall format: 0 textual (rows separated by newlines), 1 binary
 * Int16     number of columns
 * Int16[n]  format code of each column (all 0 when the overall format is textual)
 * </pre>
 * Only formats 0 and 1 exist; anything else is refused, because masking must know for certain
 * whether the stream is text or binary.
 */
public record CopyOutResponse(int overallFormat, List<Integer> columnFormats) implements BackendMessage {
    public static final char TYPE = 'H';

    public CopyOutResponse {
        CopyFormats.checkOverall(overallFormat);
        columnFormats = Checks.int16List(columnFormats, "columnFormats");
    }

    public boolean isBinary() {
        return overallFormat == 1;
    }

    @Override
    public void encode(ByteBuf out) {
        CopyFormats.write(out, TYPE, overallFormat, columnFormats);
    }

    static CopyOutResponse read(WireReader body) {
        int overall = CopyFormats.readOverall(body);
        return new CopyOutResponse(overall, CopyFormats.readColumns(body));
    }
}
