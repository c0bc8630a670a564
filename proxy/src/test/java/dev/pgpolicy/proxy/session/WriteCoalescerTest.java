package dev.pgpolicy.proxy.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class WriteCoalescerTest {

    private final EmbeddedChannel channel = new EmbeddedChannel(new WriteCoalescer());
    /** Stands for the receive buffer the frame decoder slices frames out of. */
    private final ByteBuf received = PooledByteBufAllocator.DEFAULT.directBuffer(64)
            .writeBytes("D-row-1|D-row-2|D-row-3|C-done|Z".getBytes(StandardCharsets.US_ASCII));

    @AfterEach
    void releaseEverything() {
        channel.finishAndReleaseAll();
        assertThat(received.release()).as("every slice gave its reference back").isTrue();
    }

    @Test
    void adjacentSlicesOfOneBufferLeaveAsOneWriteWithTheSameBytesAndEveryPromiseCompletes() {
        List<ChannelFuture> writes = new ArrayList<>();
        writes.add(channel.write(received.retainedSlice(0, 8)));
        writes.add(channel.write(received.retainedSlice(8, 8)));
        writes.add(channel.write(received.retainedSlice(16, 8)));
        assertThat(channel.outboundMessages()).as("nothing leaves before the flush").isEmpty();
        channel.flush();

        ByteBuf out = channel.readOutbound();
        assertThat(ByteBufUtil.hexDump(out)).isEqualTo(ByteBufUtil.hexDump(received, 0, 24));
        out.release();
        assertThat((Object) channel.readOutbound()).isNull();
        assertThat(writes).allMatch(ChannelFuture::isSuccess);
    }

    @Test
    void writesNobodyWaitsForAreJoinedAlikeAndTheOthersStillComplete() {
        channel.write(received.retainedSlice(0, 8), channel.voidPromise());
        ChannelFuture awaited = channel.write(received.retainedSlice(8, 8));
        channel.write(received.retainedSlice(16, 8), channel.voidPromise());
        channel.flush();
        channel.write(received.retainedSlice(24, 7), channel.voidPromise());
        channel.flush();

        List<String> writes = new ArrayList<>();
        for (ByteBuf out = channel.readOutbound(); out != null; out = channel.readOutbound()) {
            writes.add(out.toString(StandardCharsets.US_ASCII));
            out.release();
        }
        assertThat(writes).containsExactly("D-row-1|D-row-2|D-row-3|", "C-done|");
        assertThat(awaited.isSuccess()).isTrue();
    }

    @Test
    void aGapAnotherBufferOrAnEncodedMessageSendsTheRunOnFirstSoBytesKeepTheirOrder() {
        channel.write(received.retainedSlice(0, 8));
        channel.write(received.retainedSlice(8, 8));
        channel.write(received.retainedSlice(24, 7)); // gap: 16..23 is not relayed
        channel.write(Unpooled.copiedBuffer("encoded", StandardCharsets.US_ASCII));
        channel.write(received.retainedSlice(31, 1));
        channel.flush();

        List<String> writes = new ArrayList<>();
        for (ByteBuf out = channel.readOutbound(); out != null; out = channel.readOutbound()) {
            writes.add(out.toString(StandardCharsets.US_ASCII));
            out.release();
        }
        assertThat(writes).containsExactly("D-row-1|D-row-2|", "C-done|", "encoded", "Z");
    }

    @Test
    void aRunLeftWhenTheChannelClosesIsReleasedAndItsWritesFail() {
        ChannelFuture first = channel.write(received.retainedSlice(0, 8));
        ChannelFuture second = channel.write(received.retainedSlice(8, 8));
        channel.pipeline().remove(WriteCoalescer.class);

        assertThat(first.isDone() && !first.isSuccess()).isTrue();
        assertThat(second.isDone() && !second.isSuccess()).isTrue();
        assertThat(received.refCnt()).isEqualTo(1);
    }
}
