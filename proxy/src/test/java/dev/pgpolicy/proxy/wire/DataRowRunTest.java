package dev.pgpolicy.proxy.wire;

import static dev.pgpolicy.proxy.wire.WireTestSupport.assertSameBytes;
import static dev.pgpolicy.proxy.wire.WireTestSupport.drainInbound;
import static dev.pgpolicy.proxy.wire.WireTestSupport.protocolFailure;
import static dev.pgpolicy.proxy.wire.WireTestSupport.releaseAll;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** {@link FrameDecoder#withDataRowRuns}: consecutive DataRows of one read as one {@link DataRowRun}. */
class DataRowRunTest {

    /** BindComplete, five rows of different sizes (one NULL), CommandComplete, ReadyForQuery. */
    private static byte[] reply() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(WireTestSupport.encode(new BindComplete()));
        for (int i = 1; i <= 5; i++) {
            List<Optional<Bytes>> values = List.of(Optional.of(Bytes.utf8(Integer.toString(i))),
                    i == 3 ? Optional.empty() : Optional.of(Bytes.utf8("v".repeat(i * 7))));
            DataRow row = DataRow.of(UnpooledByteBufAllocator.DEFAULT, values);
            out.writeBytes(WireTestSupport.encode(row));
            row.release();
        }
        out.writeBytes(WireTestSupport.encode(new CommandComplete("SELECT 5")));
        out.writeBytes(WireTestSupport.encode(new ReadyForQuery(TransactionStatus.IDLE)));
        return out.toByteArray();
    }

    /** The bytes of every message in order, and the number of DataRows they carried. */
    private record Decoded(byte[] bytes, int dataRows, int runs, String types) {
    }

    private static Decoded decode(List<Object> messages) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int rows = 0;
        int runs = 0;
        StringBuilder types = new StringBuilder();
        for (Object message : messages) {
            if (message instanceof DataRowRun run) {
                assertThat(run.rowCount()).isGreaterThan(1);
                bytes.writeBytes(ByteBufUtil.getBytes(run.content()));
                rows += run.rowCount();
                runs++;
                types.append("D".repeat(run.rowCount()));
            } else {
                RawFrame frame = (RawFrame) message;
                bytes.writeBytes(ByteBufUtil.getBytes(frame.content()));
                rows += frame.type() == DataRow.TYPE ? 1 : 0;
                types.append(frame.type());
            }
        }
        return new Decoded(bytes.toByteArray(), rows, runs, types.toString());
    }

    @Test
    void aWholeReplyInOneReadCarriesItsRowsAsOneRun() {
        EmbeddedChannel channel = new EmbeddedChannel(FrameDecoder.withDataRowRuns());
        byte[] reply = reply();
        channel.writeInbound(Unpooled.wrappedBuffer(reply));
        List<Object> messages = new ArrayList<>();
        drainInbound(channel, messages);
        try {
            assertThat(messages).hasSize(4);
            assertThat(messages.get(1)).isInstanceOf(DataRowRun.class);
            Decoded decoded = decode(messages);
            assertThat(decoded.bytes()).isEqualTo(reply);
            assertThat(decoded.runs()).isEqualTo(1);
            assertThat(decoded.types()).isEqualTo("2DDDDDCZ");
        } finally {
            releaseAll(messages);
        }
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void aReplySplitAtEveryByteBoundaryKeepsEveryByteAndEveryRowInOrder() {
        byte[] reply = reply();
        for (int split = 1; split < reply.length; split++) {
            EmbeddedChannel channel = new EmbeddedChannel(FrameDecoder.withDataRowRuns());
            List<Object> messages = new ArrayList<>();
            ByteBuf first = Unpooled.directBuffer().writeBytes(reply, 0, split);
            ByteBuf second = Unpooled.directBuffer().writeBytes(reply, split, reply.length - split);
            channel.writeInbound(first);
            drainInbound(channel, messages);
            channel.writeInbound(second);
            drainInbound(channel, messages);
            try {
                Decoded decoded = decode(messages);
                assertThat(decoded.bytes()).as("split at %d", split).isEqualTo(reply);
                assertThat(decoded.dataRows()).as("split at %d", split).isEqualTo(5);
                assertThat(decoded.types()).as("split at %d", split).isEqualTo("2DDDDDCZ");
            } finally {
                releaseAll(messages);
            }
            assertThat(channel.finishAndReleaseAll()).isFalse();
            assertThat(first.refCnt()).isZero();
            assertThat(second.refCnt()).isZero();
        }
    }

    @Test
    void rowsPolledOneByOneAreTheRunsFramesAndOutliveIt() {
        EmbeddedChannel channel = new EmbeddedChannel(FrameDecoder.withDataRowRuns());
        byte[] reply = reply();
        channel.writeInbound(Unpooled.wrappedBuffer(reply));
        List<Object> messages = new ArrayList<>();
        drainInbound(channel, messages);
        DataRowRun run = (DataRowRun) messages.get(1);
        List<RawFrame> polled = new ArrayList<>();
        try {
            ByteBuf firstTwo = run.pollRows(2);
            try {
                assertThat(firstTwo.readableBytes()).isEqualTo(2 * 5 + 2 + 2 * 4 + 1 + 7 + (2 + 2 * 4 + 1 + 14));
            } finally {
                firstTwo.release();
            }
            assertThat(run.remainingRows()).isEqualTo(3);
            RawFrame row;
            while ((row = run.pollFrame()) != null) {
                polled.add(row);
            }
            assertThat(polled).hasSize(3);
            assertThat(run.remainingRows()).isZero();
            run.release();
            messages.remove(1);
            DataRow third = (DataRow) BackendMessages.decode(polled.get(0));
            try {
                assertThat(third.isNull(1)).isTrue();
                assertSameBytes(third.column(0), new byte[] {'3'});
            } finally {
                third.release();
            }
            DataRow fifth = (DataRow) BackendMessages.decode(polled.get(2));
            try {
                assertSameBytes(fifth.column(1), "v".repeat(35).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            } finally {
                fifth.release();
            }
        } finally {
            releaseAll(polled);
            releaseAll(messages);
        }
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void aRowOverTheLimitEndsTheRunAndIsThenRejected() {
        FrameDecoder decoder = FrameDecoder.withDataRowRuns();
        decoder.setMaxFrameLength(30);
        EmbeddedChannel channel = new EmbeddedChannel(decoder);
        byte[] reply = reply(); // rows 1 and 2 are within 30 bytes, row 3 (4 + 2 + 4 + 1 + 4 bytes) too, row 4 is not
        List<Object> messages = new ArrayList<>();
        Throwable thrown = catchThrowable(() -> channel.writeInbound(Unpooled.wrappedBuffer(reply)));
        drainInbound(channel, messages);
        try {
            assertThat(protocolFailure(thrown).getMessage()).contains("over the limit of 30 bytes");
            assertThat(decode(messages).types()).isEqualTo("2DDD");
            assertThat(messages.get(1)).isInstanceOf(DataRowRun.class);
        } finally {
            releaseAll(messages);
        }
        channel.finishAndReleaseAll();
    }

    @Test
    void withoutRunsEveryRowIsAFrame() {
        EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder());
        channel.writeInbound(Unpooled.wrappedBuffer(reply()));
        List<Object> messages = new ArrayList<>();
        drainInbound(channel, messages);
        try {
            assertThat(messages).hasSize(8).allMatch(RawFrame.class::isInstance);
        } finally {
            releaseAll(messages);
        }
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }
}
