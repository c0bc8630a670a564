package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;

/**
 * CopyDone (F and B): the end of a COPY data stream, in either direction.
 * <pre>
 * Byte1('c')
 * Int32(4)  length
 * </pre>
 */
public record CopyDone() implements FrontendMessage, BackendMessage {
    public static final char TYPE = 'c';
    public static final CopyDone INSTANCE = new CopyDone();

    @Override
    public void encode(ByteBuf out) {
        WireWriter.writeEmpty(out, TYPE);
    }
}
