package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/** Anything that can write its complete wire form: a typed message or a startup packet. */
public interface WireMessage {

    /** Appends the complete frame (type byte, length and body; or length and body when untyped). */
    void encode(ByteBuf out);

    /** Encodes into a new buffer from {@code alloc}; the caller owns the result. */
    default ByteBuf encode(ByteBufAllocator alloc) {
        ByteBuf out = alloc.buffer();
        try {
            encode(out);
            return out;
        } catch (RuntimeException | Error e) {
            out.release();
            throw e;
        }
    }
}
