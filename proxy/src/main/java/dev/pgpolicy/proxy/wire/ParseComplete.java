package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;

/**
 * ParseComplete (B): Parse succeeded.
 * <pre>
 * Byte1('1')
 * Int32(4)  length
 * </pre>
 */
public record ParseComplete() implements BackendMessage {
    public static final char TYPE = '1';
    public static final ParseComplete INSTANCE = new ParseComplete();

    @Override
    public void encode(ByteBuf out) {
        WireWriter.writeEmpty(out, TYPE);
    }
}
