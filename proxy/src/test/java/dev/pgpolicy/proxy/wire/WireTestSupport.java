package dev.pgpolicy.proxy.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/** Byte-level helpers shared by the codec tests. */
final class WireTestSupport {
    private WireTestSupport() {
    }

    /**
     * Bytes from hex written as in the protocol docs: whitespace is ignored, "|" separates fields
     * for the reader, and "'text'" stands for the ASCII bytes of text.
     */
    static byte[] bytes(String spec) {
        StringBuilder hex = new StringBuilder();
        int i = 0;
        while (i < spec.length()) {
            char c = spec.charAt(i);
            if (c == '\'') {
                int end = spec.indexOf('\'', i + 1);
                hex.append(ByteBufUtil.hexDump(spec.substring(i + 1, end).getBytes(StandardCharsets.US_ASCII)));
                i = end + 1;
            } else {
                if (Character.digit(c, 16) >= 0) {
                    hex.append(c);
                }
                i++;
            }
        }
        return ByteBufUtil.decodeHexDump(hex);
    }

    static ByteBuf buf(String spec) {
        return Unpooled.wrappedBuffer(bytes(spec));
    }

    /** Fails with both hex dumps side by side when the readable bytes differ. */
    static void assertSameBytes(ByteBuf actual, byte[] expected) {
        byte[] actualBytes = ByteBufUtil.getBytes(actual);
        if (!java.util.Arrays.equals(actualBytes, expected)) {
            fail("bytes differ%nexpected:%n%s%nactual:%n%s",
                    ByteBufUtil.prettyHexDump(Unpooled.wrappedBuffer(expected)),
                    ByteBufUtil.prettyHexDump(Unpooled.wrappedBuffer(actualBytes)));
        }
    }

    static byte[] encode(WireMessage message) {
        ByteBuf out = Unpooled.buffer();
        try {
            message.encode(out);
            return ByteBufUtil.getBytes(out);
        } finally {
            out.release();
        }
    }

    /** Encodes {@code message} and checks the result against the hand-written vector. */
    static void assertEncodes(WireMessage message, String expectedSpec) {
        ByteBuf out = Unpooled.buffer();
        try {
            message.encode(out);
            assertSameBytes(out, bytes(expectedSpec));
        } finally {
            out.release();
        }
    }

    /** Frames {@code bytes} and decodes the single frame with {@code decoder}; releases everything. */
    static <T> T decodeFrame(byte[] bytes, Function<RawFrame, T> decoder) {
        RawFrame frame = RawFrame.wrap(Unpooled.wrappedBuffer(bytes));
        try {
            return decoder.apply(frame);
        } finally {
            frame.release();
        }
    }

    /** Writes {@code input} into a fresh channel one byte per read and collects what comes out. */
    static List<Object> feedByteByByte(EmbeddedChannel channel, byte[] input) {
        List<Object> received = new ArrayList<>();
        for (byte b : input) {
            channel.writeInbound(Unpooled.wrappedBuffer(new byte[] {b}));
            drainInbound(channel, received);
        }
        return received;
    }

    static void drainInbound(EmbeddedChannel channel, List<Object> into) {
        for (Object msg = channel.readInbound(); msg != null; msg = channel.readInbound()) {
            into.add(msg);
        }
    }

    static void releaseAll(List<?> messages) {
        for (Object message : messages) {
            ReferenceCountUtil.release(message);
        }
    }

    /** The ProtocolException behind a pipeline failure (Netty wraps it in DecoderException). */
    static ProtocolException protocolFailure(Throwable thrown) {
        assertThat(thrown).isInstanceOf(DecoderException.class);
        assertThat(thrown.getCause()).isInstanceOf(ProtocolException.class);
        return (ProtocolException) thrown.getCause();
    }

    static EmbeddedChannel channel(ChannelHandler... handlers) {
        return new EmbeddedChannel(handlers);
    }
}
