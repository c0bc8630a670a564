package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;

/**
 * BindComplete (B): Bind succeeded.
 * <pre>
 * Byte1('2')
 * Int32(4)  length
 * </pre>
 */
public record BindComplete() implements BackendMessage {
    public static final char TYPE = '2';
    public static final BindComplete INSTANCE = new BindComplete();

    @Override
    public void encode(ByteBuf out) {
        WireWriter.writeEmpty(out, TYPE);
    }
}
