package dev.pgpolicy.proxy.wire;

import static dev.pgpolicy.proxy.wire.WireTestSupport.feedByteByByte;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Whole conversations through FrameDecoder and the decoders, as the relay uses them. */
class CodecPipelineTest {

    private static byte[] encodeAll(List<? extends WireMessage> messages) {
        ByteBuf out = Unpooled.buffer();
        try {
            messages.forEach(m -> m.encode(out));
            return ByteBufUtil.getBytes(out);
        } finally {
            out.release();
        }
    }

    @Test
    void anExtendedQueryBatchSurvivesByteByByteDelivery() {
        List<FrontendMessage> batch = List.of(
                new Parse("", "SELECT $1::int", List.of(23)),
                new Bind("", "", List.of(0), List.of(Optional.of(Bytes.utf8("7"))), List.of(1)),
                new Describe(TargetKind.PORTAL, ""),
                new Execute("", 0),
                Sync.INSTANCE,
                new Query("BEGIN; SELECT 1; COMMIT"),
                Terminate.INSTANCE);
        EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder(FrameDecoder.MAX_FRAME_LENGTH_BEFORE_AUTHENTICATION));
        List<Object> frames = feedByteByByte(channel, encodeAll(batch));
        List<FrontendMessage> decoded = new ArrayList<>();
        try {
            for (Object frame : frames) {
                decoded.add(FrontendMessages.decode((RawFrame) frame));
            }
        } finally {
            WireTestSupport.releaseAll(frames);
        }
        assertThat(decoded).isEqualTo(batch);
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void aResultSetSurvivesByteByByteDelivery() {
        List<BackendMessage> result = new ArrayList<>();
        result.add(new RowDescription(List.of(
                new RowDescription.Field("id", 16384, 1, 23, 4, -1, 0),
                new RowDescription.Field("email", 16384, 2, 25, -1, -1, 0))));
        result.add(DataRow.of(io.netty.buffer.UnpooledByteBufAllocator.DEFAULT, List.of(Optional.of(Bytes.utf8("1")), Optional.empty())));
        result.add(new CommandComplete("SELECT 1"));
        result.add(NoticeResponse.of("WARNING", SqlState.SUCCESSFUL_COMPLETION, "w"));
        result.add(ReadyForQuery.IDLE);
        EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder());
        List<Object> frames = feedByteByByte(channel, encodeAll(result));
        List<BackendMessage> decoded = new ArrayList<>();
        try {
            for (Object frame : frames) {
                decoded.add(BackendMessages.decode((RawFrame) frame));
            }
            assertThat(decoded).isEqualTo(result);
        } finally {
            WireTestSupport.releaseAll(frames);
            decoded.forEach(ReferenceCountUtil::release);
            result.forEach(ReferenceCountUtil::release);
        }
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void startupThenTypedFramesThroughAReplacedDecoder() {
        EmbeddedChannel channel = new EmbeddedChannel();
        channel.pipeline().addLast("decoder", new StartupDecoder());
        byte[] startup = encodeAll(List.of(StartupMessage.of(Map.of("user", "ana"))));
        List<Object> first = feedByteByByte(channel, startup);
        assertThat(first).containsExactly(StartupMessage.of(Map.of("user", "ana")));
        channel.pipeline().replace("decoder", "decoder", new FrameDecoder(FrameDecoder.MAX_FRAME_LENGTH_BEFORE_AUTHENTICATION));
        List<Object> frames = feedByteByByte(channel, encodeAll(List.of(PasswordMessage.of("pw"))));
        try {
            assertThat(frames).hasSize(1);
            assertThat(FrontendMessages.decodePassword((RawFrame) frames.get(0))).isEqualTo(PasswordMessage.of("pw"));
        } finally {
            WireTestSupport.releaseAll(frames);
        }
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }
}
