package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;

/**
 * Parse (F): prepares a statement in the extended query protocol.
 * <pre>
 * Byte1('P')
 * Int32    length
 * String   prepared statement name ("" = the unnamed statement)
 * String   query string
 * Int16    number of parameter data types specified (may be fewer than the parameters used)
 * Int32[n] parameter type OIDs (0 = unspecified)
 * </pre>
 */
public record Parse(String statementName, String sql, List<Integer> parameterTypeOids) implements FrontendMessage {
    public static final char TYPE = 'P';

    public Parse {
        Checks.cString(statementName, "statementName");
        Checks.cString(sql, "sql");
        parameterTypeOids = Checks.count16(parameterTypeOids, "parameterTypeOids");
    }

    @Override
    public void encode(ByteBuf out) {
        int lengthIndex = WireWriter.beginFrame(out, TYPE);
        WireWriter.writeCString(out, statementName);
        WireWriter.writeCString(out, sql);
        out.writeShort(parameterTypeOids.size());
        for (int oid : parameterTypeOids) {
            out.writeInt(oid);
        }
        WireWriter.endFrame(out, lengthIndex);
    }

    static Parse read(WireReader body) {
        String name = body.readCString("statement name");
        String sql = body.readCString("query string");
        int count = body.readCount16("parameter type count", 4);
        List<Integer> oids = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            oids.add(body.readInt32("parameter type"));
        }
        body.expectEnd();
        return new Parse(name, sql, oids);
    }
}
