package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;

/**
 * NoData (B): the described statement or portal returns no rows.
 * <pre>
 * Byte1('n')
 * Int32(4)  length
 * </pre>
 */
public record NoData() implements BackendMessage {
    public static final char TYPE = 'n';
    public static final NoData INSTANCE = new NoData();

    @Override
    public void encode(ByteBuf out) {
        WireWriter.writeEmpty(out, TYPE);
    }
}
