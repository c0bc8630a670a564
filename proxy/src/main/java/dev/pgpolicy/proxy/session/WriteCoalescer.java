package dev.pgpolicy.proxy.session;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.util.concurrent.PromiseNotifier;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayList;
import java.util.List;

/**
 * Joins writes of buffers that lie back to back in the same receive buffer into one write,
 * without copying.
 *
 * <p>The relay hands every frame on as its own retained slice of the buffer it was read into
 * ({@code FrameDecoder}), so a 10,000-row result is 10,000 writes: as many outbound-buffer
 * entries, and {@code writev} calls of up to IOV_MAX (1024) pieces of about 100 bytes each. The
 * frames of one read are adjacent in memory, so consecutive slices of the same buffer are merged
 * into one slice of it; the socket then sees a few large writes. Anything that does not continue
 * the run (an encoded message, a gap, another buffer, a buffer without a memory address) first
 * sends the run on, so bytes never change order. The run is sent on at every flush, so it holds
 * at most what one read delivered, which the channel's write-buffer water marks do not see.
 */
final class WriteCoalescer extends ChannelOutboundHandlerAdapter {

    /** The buffer the run's slices share; null when there is no run. */
    private ByteBuf root;
    /** The run's first slice: its reference keeps {@link #root} alive until the run is written. */
    private ByteBuf first;
    private long start;
    private int length;
    /** Writes in the run. */
    private int writes;
    /** The run's writers' promises, void ones left out: nobody waits on those. */
    private final List<ChannelPromise> promises = new ArrayList<>();

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        ByteBuf buf = msg instanceof ByteBuf b && b.hasMemoryAddress() ? b : null;
        ByteBuf parent = buf == null ? null : bottom(buf);
        if (parent == null || !parent.hasMemoryAddress()) {
            sendRun(ctx);
            ctx.write(msg, promise);
            return;
        }
        long address = buf.memoryAddress() + buf.readerIndex();
        if (root == parent && address == start + length) {
            length += buf.readableBytes();
            joined(promise);
            buf.release(); // the first slice's reference keeps the shared buffer alive
            return;
        }
        sendRun(ctx);
        root = parent;
        first = buf;
        start = address;
        length = buf.readableBytes();
        joined(promise);
    }

    private void joined(ChannelPromise promise) {
        writes++;
        if (!promise.isVoid()) {
            promises.add(promise);
        }
    }

    /**
     * The buffer that owns the memory: below the slice, and below a leak detector's wrapper when
     * leak detection sampled this buffer. Null when {@code buf} is not derived from another.
     */
    private static ByteBuf bottom(ByteBuf buf) {
        ByteBuf below = buf.unwrap();
        if (below == null) {
            return null;
        }
        while (below.unwrap() != null) {
            below = below.unwrap();
        }
        return below;
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        sendRun(ctx);
        ctx.flush();
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        sendRun(ctx);
        ctx.close(promise);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        discardRun();
    }

    private void sendRun(ChannelHandlerContext ctx) {
        if (root == null) {
            return;
        }
        if (writes == 1) {
            ByteBuf run = first;
            ChannelPromise promise = promises.isEmpty() ? ctx.voidPromise() : promises.get(0);
            clear();
            ctx.write(run, promise);
            return;
        }
        ByteBuf run = root.retainedSlice((int) (start - root.memoryAddress()), length);
        ChannelPromise promise = ctx.newPromise();
        if (!promises.isEmpty()) {
            promise.addListener(new PromiseNotifier<>(false, promises.toArray(new ChannelPromise[0])));
        }
        // The run is a slice of the bare buffer, below the leak detector's wrapper, so releasing
        // it never reaches the wrapper. Were it the last reference, the wrapper would never see
        // the count reach zero and would report a leak of memory already back in the pool. The
        // first slice does release through the wrapper: it is given back only once the run was
        // written (or failed), after the socket released the run.
        ByteBuf keptUntilWritten = first;
        promise.addListener(written -> keptUntilWritten.release());
        clear();
        ctx.write(run, promise);
    }

    private void discardRun() {
        if (root == null) {
            return;
        }
        first.release();
        ClosedChannelException closed = new ClosedChannelException();
        for (ChannelPromise promise : promises) {
            promise.tryFailure(closed);
        }
        clear();
    }

    private void clear() {
        root = null;
        first = null;
        length = 0;
        writes = 0;
        promises.clear();
    }
}
