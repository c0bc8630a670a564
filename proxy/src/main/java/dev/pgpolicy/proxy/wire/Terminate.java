package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;

/**
 * Terminate (F): the client is closing the connection.
 * <pre>
 * Byte1('X')
 * Int32(4)  length
 * </pre>
 */
public record Terminate() implements FrontendMessage {
    public static final char TYPE = 'X';
    public static final Terminate INSTANCE = new Terminate();

    @Override
    public void encode(ByteBuf out) {
        WireWriter.writeEmpty(out, TYPE);
    }
}
