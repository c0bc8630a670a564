package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;

/**
 * Sync (F): ends an extended-query batch; the server answers ReadyForQuery.
 * <pre>
 * Byte1('S')
 * Int32(4)  length
 * </pre>
 */
public record Sync() implements FrontendMessage {
    public static final char TYPE = 'S';
    public static final Sync INSTANCE = new Sync();

    @Override
    public void encode(ByteBuf out) {
        WireWriter.writeEmpty(out, TYPE);
    }
}
