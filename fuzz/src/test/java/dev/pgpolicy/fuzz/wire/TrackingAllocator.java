package dev.pgpolicy.fuzz.wire;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.UnpooledDirectByteBuf;
import io.netty.buffer.UnpooledHeapByteBuf;
import java.util.ArrayList;
import java.util.List;

/**
 * An allocator that remembers every buffer it hands out, so that a property can assert, without
 * waiting for the garbage collector, that every one of them was released: the input, the decoder's
 * cumulation buffers, and (through shared reference counts) every frame slice and holder.
 */
final class TrackingAllocator extends AbstractByteBufAllocator {
    private final List<ByteBuf> allocated = new ArrayList<>();

    TrackingAllocator() {
        super(false);
    }

    @Override
    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
        return track(new UnpooledHeapByteBuf(this, initialCapacity, maxCapacity));
    }

    @Override
    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
        return track(new UnpooledDirectByteBuf(this, initialCapacity, maxCapacity));
    }

    @Override
    public boolean isDirectBufferPooled() {
        return false;
    }

    private ByteBuf track(ByteBuf buf) {
        allocated.add(buf);
        return buf;
    }

    ByteBuf copyOf(byte[] bytes, int from, int to) {
        ByteBuf buf = heapBuffer(Math.max(to - from, 1));
        buf.writeBytes(bytes, from, to - from);
        return buf;
    }

    /** Throws if any buffer this allocator made is still referenced. */
    void assertAllReleased() {
        for (ByteBuf buf : allocated) {
            if (buf.refCnt() != 0) {
                throw new AssertionError("leaked buffer (refCnt " + buf.refCnt() + "):\n"
                        + ByteBufUtil.prettyHexDump(buf, 0, Math.min(buf.writerIndex(), 256)));
            }
        }
    }
}
