package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;

/**
 * EmptyQueryResponse (B): the response to an empty query string, in place of CommandComplete.
 * <pre>
 * Byte1('I')
 * Int32(4)  length
 * </pre>
 */
public record EmptyQueryResponse() implements BackendMessage {
    public static final char TYPE = 'I';
    public static final EmptyQueryResponse INSTANCE = new EmptyQueryResponse();

    @Override
    public void encode(ByteBuf out) {
        WireWriter.writeEmpty(out, TYPE);
    }
}
