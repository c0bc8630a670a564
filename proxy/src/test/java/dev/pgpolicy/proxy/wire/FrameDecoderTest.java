package dev.pgpolicy.proxy.wire;

import static dev.pgpolicy.proxy.wire.WireTestSupport.assertSameBytes;
import static dev.pgpolicy.proxy.wire.WireTestSupport.buf;
import static dev.pgpolicy.proxy.wire.WireTestSupport.bytes;
import static dev.pgpolicy.proxy.wire.WireTestSupport.feedByteByByte;
import static dev.pgpolicy.proxy.wire.WireTestSupport.protocolFailure;
import static dev.pgpolicy.proxy.wire.WireTestSupport.releaseAll;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.List;
import org.junit.jupiter.api.Test;

class FrameDecoderTest {
    private static final String QUERY = "51 00000010 'SELECT 1;' 00 00 00";
    private static final String SYNC = "53 00000004";
    private static final String EXECUTE = "45 00000009 00 00000000";

    @Test
    void cutsFramesFedOneByteAtATime() {
        EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder());
        byte[] stream = bytes(QUERY + EXECUTE + SYNC);
        List<Object> frames = feedByteByByte(channel, stream);
        try {
            assertThat(frames).hasSize(3);
            RawFrame query = (RawFrame) frames.get(0);
            assertThat(query.type()).isEqualTo('Q');
            assertThat(query.frameLength()).isEqualTo(17);
            assertThat(query.bodyLength()).isEqualTo(12);
            assertSameBytes(query.content(), bytes(QUERY));
            assertSameBytes(query.body(), bytes("'SELECT 1;' 00 00 00"));
            assertSameBytes(((RawFrame) frames.get(1)).content(), bytes(EXECUTE));
            assertSameBytes(((RawFrame) frames.get(2)).content(), bytes(SYNC));
        } finally {
            releaseAll(frames);
        }
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void cutsSeveralFramesFromOneRead() {
        EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder());
        ByteBuf input = buf(SYNC + QUERY + SYNC);
        assertThat(channel.writeInbound(input)).isTrue();
        RawFrame first = channel.readInbound();
        RawFrame second = channel.readInbound();
        RawFrame third = channel.readInbound();
        try {
            assertThat(first.type()).isEqualTo('S');
            assertThat(second.type()).isEqualTo('Q');
            assertThat(third.type()).isEqualTo('S');
            assertThat((Object) channel.readInbound()).isNull();
        } finally {
            first.release();
            second.release();
            third.release();
        }
        assertThat(input.refCnt()).isZero();
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void keepsAnIncompleteFrameUntilTheRestArrives() {
        EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder());
        byte[] query = bytes(QUERY);
        assertThat(channel.writeInbound(Unpooled.wrappedBuffer(query, 0, 10))).isFalse();
        assertThat(channel.writeInbound(Unpooled.wrappedBuffer(query, 10, query.length - 10))).isTrue();
        RawFrame frame = channel.readInbound();
        try {
            assertSameBytes(frame.content(), query);
        } finally {
            frame.release();
        }
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void lengthBelowFourIsAProtocolViolation() {
        for (String header : List.of("51 00000003", "51 00000000", "51 ffffffff", "51 80000000")) {
            EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder());
            Throwable thrown = catchThrowable(() -> channel.writeInbound(buf(header)));
            ProtocolException e = protocolFailure(thrown);
            assertThat(e.sqlState()).isEqualTo(SqlState.PROTOCOL_VIOLATION);
            assertThat(e.getMessage()).contains("invalid message length");
            assertThat(channel.finishAndReleaseAll()).isFalse();
        }
    }

    @Test
    void lengthOverTheLimitIsRejectedAsSoonAsTheHeaderArrives() {
        EmbeddedChannel channel = new EmbeddedChannel(
                new FrameDecoder(FrameDecoder.MAX_FRAME_LENGTH_BEFORE_AUTHENTICATION));
        // Only the header: the decoder must not wait for 10 001 bytes of body first.
        Throwable thrown = catchThrowable(() -> channel.writeInbound(buf("70 00002711")));
        ProtocolException e = protocolFailure(thrown);
        assertThat(e.sqlState()).isEqualTo(SqlState.PROTOCOL_VIOLATION);
        assertThat(e.getMessage()).contains("10001").contains("10000");
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void lengthAtTheLimitIsAccepted() {
        EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder(10));
        assertThat(channel.writeInbound(buf("64 0000000a 010203040506"))).isTrue();
        RawFrame frame = channel.readInbound();
        try {
            assertThat(frame.bodyLength()).isEqualTo(6);
        } finally {
            frame.release();
        }
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void defaultLimitIsMaxAllocSize() {
        FrameDecoder decoder = new FrameDecoder();
        assertThat(decoder.maxFrameLength()).isEqualTo((1 << 30) - 1);
        EmbeddedChannel channel = new EmbeddedChannel(decoder);
        assertThat(channel.writeInbound(buf("64 3fffffff"))).isFalse();
        Throwable thrown = catchThrowable(() -> {
            EmbeddedChannel other = new EmbeddedChannel(new FrameDecoder());
            try {
                other.writeInbound(buf("64 40000000"));
            } finally {
                other.finishAndReleaseAll();
            }
        });
        assertThat(protocolFailure(thrown).sqlState()).isEqualTo(SqlState.PROTOCOL_VIOLATION);
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void raisingTheLimitAfterAuthenticationAcceptsLargerFrames() {
        FrameDecoder decoder = new FrameDecoder(FrameDecoder.MAX_FRAME_LENGTH_BEFORE_AUTHENTICATION);
        EmbeddedChannel channel = new EmbeddedChannel(decoder);
        decoder.setMaxFrameLength(FrameDecoder.DEFAULT_MAX_FRAME_LENGTH);
        ByteBuf big = Unpooled.buffer();
        big.writeByte('d').writeInt(4 + 20_000).writeZero(20_000);
        assertThat(channel.writeInbound(big)).isTrue();
        RawFrame frame = channel.readInbound();
        try {
            assertThat(frame.bodyLength()).isEqualTo(20_000);
        } finally {
            frame.release();
        }
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void limitMustBeAtLeastTheHeaderAndAtMostMaxAllocSize() {
        FrameDecoder decoder = new FrameDecoder();
        assertThatThrownBy(() -> decoder.setMaxFrameLength(3)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> decoder.setMaxFrameLength(Integer.MAX_VALUE))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void afterAViolationEverythingIsDiscarded() {
        EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder());
        ByteBuf bad = buf("51 00000001" + SYNC);
        assertThat(catchThrowable(() -> channel.writeInbound(bad))).hasCauseInstanceOf(ProtocolException.class);
        ByteBuf more = buf(SYNC);
        assertThat(channel.writeInbound(more)).isFalse();
        assertThat(bad.refCnt()).isZero();
        assertThat(more.refCnt()).isZero();
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void frameContentIsASliceOfTheReceivedBytesNotACopy() {
        EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder());
        ByteBuf input = Unpooled.directBuffer().writeBytes(bytes(SYNC + SYNC));
        long address = input.memoryAddress();
        channel.writeInbound(input);
        RawFrame first = channel.readInbound();
        RawFrame second = channel.readInbound();
        try {
            // Same memory as the received buffer: the frames are views, not copies.
            assertThat(first.content().memoryAddress()).isEqualTo(address);
            assertThat(second.content().memoryAddress()).isEqualTo(address + 5);
        } finally {
            first.release();
            second.release();
        }
        assertThat(input.refCnt()).isZero();
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void wrapChecksThatTheLengthWordMatchesTheBuffer() {
        ByteBuf tooLong = buf("53 00000004 00");
        assertThatThrownBy(() -> RawFrame.wrap(tooLong)).isInstanceOf(ProtocolException.class);
        ByteBuf header = buf("53 0000");
        assertThatThrownBy(() -> RawFrame.wrap(header)).isInstanceOf(ProtocolException.class);
        RawFrame frame = RawFrame.wrap(buf(SYNC));
        assertThat(frame.toString()).isEqualTo("RawFrame['S', 5 bytes]");
        assertThat(frame.release()).isTrue();
        assertThat(frame.toString()).isEqualTo("RawFrame[released]");
    }

    @Test
    void rawFrameOfFramesARecordAndRefusesStartupPackets() {
        RawFrame frame = RawFrame.of(new Query("SELECT 1"), io.netty.buffer.UnpooledByteBufAllocator.DEFAULT);
        try {
            assertSameBytes(frame.content(), bytes("51 0000000d 'SELECT 1' 00"));
        } finally {
            frame.release();
        }
        assertThatThrownBy(() -> RawFrame.of(SSLRequest.INSTANCE, io.netty.buffer.UnpooledByteBufAllocator.DEFAULT))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
