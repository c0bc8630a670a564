package dev.pgpolicy.proxy.wire;

import static dev.pgpolicy.proxy.wire.WireTestSupport.assertSameBytes;
import static dev.pgpolicy.proxy.wire.WireTestSupport.buf;
import static dev.pgpolicy.proxy.wire.WireTestSupport.bytes;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class MessageEncoderTest {

    private static void assertWrites(EmbeddedChannel channel, String spec) {
        ByteBuf written = channel.readOutbound();
        try {
            assertSameBytes(written, bytes(spec));
        } finally {
            written.release();
        }
    }

    @Test
    void forwardsARawFrameAsTheSameBuffer() {
        EmbeddedChannel channel = new EmbeddedChannel(MessageEncoder.INSTANCE);
        RawFrame frame = RawFrame.wrap(buf("5a 00000005 49"));
        ByteBuf content = frame.content();
        assertThat(channel.writeOutbound(frame)).isTrue();
        ByteBuf written = channel.readOutbound();
        try {
            assertThat(written).isSameAs(content);
            assertThat(written.refCnt()).isEqualTo(1);
        } finally {
            written.release();
        }
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void encodesRecords() {
        EmbeddedChannel channel = new EmbeddedChannel(MessageEncoder.INSTANCE);
        channel.writeOutbound(ReadyForQuery.IDLE, new CommandComplete("SELECT 1"), SSLRequest.INSTANCE);
        assertWrites(channel, "5a 00000005 49");
        assertWrites(channel, "43 0000000d 'SELECT 1' 00");
        assertWrites(channel, "00000008 04d2162f");
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void passesPlainBuffersThrough() {
        EmbeddedChannel channel = new EmbeddedChannel(MessageEncoder.INSTANCE);
        ByteBuf answer = Unpooled.wrappedBuffer(new byte[] {'N'});
        channel.writeOutbound(answer);
        assertThat((Object) channel.readOutbound()).isSameAs(answer);
        answer.release();
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void writesDataRowAndCopyDataWithoutCopyingThePayloadAndReleasesThem() {
        EmbeddedChannel channel = new EmbeddedChannel(MessageEncoder.INSTANCE);
        DataRow row = DataRow.of(channel.alloc(), List.of(Optional.of(Bytes.utf8("1"))));
        CopyData copy = new CopyData(Unpooled.copiedBuffer(bytes("'a,b' 0a")));
        channel.writeOutbound(row, copy);
        assertWrites(channel, "44 0000000b 0001 00000001 31");
        assertWrites(channel, "64 00000008 'a,b' 0a");
        assertThat(row.refCnt()).isZero();
        assertThat(copy.refCnt()).isZero();
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }
}
