package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;

/**
 * Flush (F): asks the server to send what it has buffered.
 * <pre>
 * Byte1('H')
 * Int32(4)  length
 * </pre>
 */
public record Flush() implements FrontendMessage {
    public static final char TYPE = 'H';
    public static final Flush INSTANCE = new Flush();

    @Override
    public void encode(ByteBuf out) {
        WireWriter.writeEmpty(out, TYPE);
    }
}
