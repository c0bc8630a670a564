package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;

/**
 * Query (F): a simple-protocol query string, possibly several statements.
 * <pre>
 * Byte1('Q')
 * Int32   length
 * String  the query string
 * </pre>
 */
public record Query(String sql) implements FrontendMessage {
    public static final char TYPE = 'Q';

    public Query {
        Checks.cString(sql, "sql");
    }

    @Override
    public void encode(ByteBuf out) {
        int lengthIndex = WireWriter.beginFrame(out, TYPE);
        WireWriter.writeCString(out, sql);
        WireWriter.endFrame(out, lengthIndex);
    }

    static Query read(WireReader body) {
        String sql = body.readCString("query string");
        body.expectEnd();
        return new Query(sql);
    }
}
