package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;

/**
 * CloseComplete (B): Close succeeded.
 * <pre>
 * Byte1('3')
 * Int32(4)  length
 * </pre>
 */
public record CloseComplete() implements BackendMessage {
    public static final char TYPE = '3';
    public static final CloseComplete INSTANCE = new CloseComplete();

    @Override
    public void encode(ByteBuf out) {
        WireWriter.writeEmpty(out, TYPE);
    }
}
