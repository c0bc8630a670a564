package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;
import java.util.List;

/**
 * CopyInResponse (B): the server is ready for COPY FROM STDIN data.
 * <pre>
 * Byte1('G')
 * Int32     length
 * Int8      overall format: 0 textual (rows separated by newlines), 1 binary
 * Int16     number of columns
 * Int16[n]  format code of each column (all 0 when the overall format is textual)
 * </pre>
 * Only formats 0 and 1 exist; anything else is refused, because masking must know for certain
 * whether the stream is text or binary.
 */
public record CopyInResponse(int overallFormat, List<Integer> columnFormats) implements BackendMessage {
    public static final char TYPE = 'G';

    public CopyInResponse {
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

    static CopyInResponse read(WireReader body) {
        int overall = CopyFormats.readOverall(body);
        return new CopyInResponse(overall, CopyFormats.readColumns(body));
    }
}
