package dev.pgpolicy.fuzz.wire;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpolicy.proxy.wire.BackendMessage;
import dev.pgpolicy.proxy.wire.BackendMessages;
import dev.pgpolicy.proxy.wire.FrameDecoder;
import dev.pgpolicy.proxy.wire.FrontendMessage;
import dev.pgpolicy.proxy.wire.FrontendMessages;
import dev.pgpolicy.proxy.wire.RawFrame;
import dev.pgpolicy.proxy.wire.StartupDecoder;
import dev.pgpolicy.proxy.wire.StartupMessage;
import dev.pgpolicy.proxy.wire.StartupPacket;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/** What comes out of the decoders does not depend on how TCP happened to cut the stream. */
class ChunkingProperties {

    @Provide
    Arbitrary<List<FrontendMessage>> frontendStreams() {
        return WireArbitraries.frontendMessage().list().ofMaxSize(8);
    }

    @Provide
    Arbitrary<List<BackendMessage>> backendStreams() {
        return WireArbitraries.backendMessage().list().ofMaxSize(8);
    }

    @Provide
    Arbitrary<StartupPacket> startupPackets() {
        return WireArbitraries.startupPacket();
    }

    private static <T> void assertChunkingInvariant(List<T> messages, List<Integer> cuts, Function<RawFrame, T> decoder) {
        TrackingAllocator alloc = new TrackingAllocator();
        @SuppressWarnings("unchecked")
        byte[] stream = WireFuzzSupport.encode((List<? extends dev.pgpolicy.proxy.wire.WireMessage>) messages).bytes();
        EmbeddedChannel channel = WireFuzzSupport.channel(alloc, new FrameDecoder());
        List<Object> frames = new ArrayList<>();
        List<T> decoded = new ArrayList<>();
        try {
            Throwable failure = WireFuzzSupport.feed(channel, alloc, stream, cuts, frames);
            assertThat(failure).isNull();
            ByteArrayOutputStream reassembled = new ByteArrayOutputStream();
            for (Object frame : frames) {
                RawFrame raw = (RawFrame) frame;
                reassembled.writeBytes(ByteBufUtil.getBytes(raw.content()));
                decoded.add(decoder.apply(raw));
            }
            assertThat(reassembled.toByteArray()).isEqualTo(stream);
            assertThat(decoded).isEqualTo(messages);
        } finally {
            WireFuzzSupport.releaseAll(frames);
            decoded.forEach(ReferenceCountUtil::release);
        }
        assertThat(channel.finishAndReleaseAll()).isFalse();
        alloc.assertAllReleased();
    }

    @Property(tries = 250)
    void frontendStreamsDecodeTheSameWhateverTheChunking(
            @ForAll("frontendStreams") List<FrontendMessage> messages,
            @ForAll @Size(max = 16) List<@IntRange(min = 0, max = 100_000) Integer> cuts) {
        assertChunkingInvariant(messages, cuts, FrontendMessages::decode);
    }

    @Property(tries = 250)
    void backendStreamsDecodeTheSameWhateverTheChunking(
            @ForAll("backendStreams") List<BackendMessage> messages,
            @ForAll @Size(max = 16) List<@IntRange(min = 0, max = 100_000) Integer> cuts) {
        assertChunkingInvariant(messages, cuts, BackendMessages::decode);
    }

    @Property(tries = 50)
    void backendStreamsDecodeTheSameOneByteAtATime(@ForAll("backendStreams") List<BackendMessage> messages) {
        int length = WireFuzzSupport.encode(messages).bytes().length;
        List<Integer> everyByte = new ArrayList<>();
        for (int i = 1; i < length; i++) {
            everyByte.add(i);
        }
        assertChunkingInvariant(messages, everyByte, BackendMessages::decode);
    }

    /**
     * The session's hand-over: a StartupMessage, then typed frames, in one stream cut anywhere. The
     * StartupDecoder is replaced as soon as the StartupMessage arrives, and whatever it had already
     * buffered must reach the FrameDecoder intact.
     */
    @Property(tries = 120)
    void startupThenTypedFramesWhateverTheChunking(
            @ForAll("startupMessages") StartupMessage startup,
            @ForAll("frontendStreams") List<FrontendMessage> messages,
            @ForAll @Size(max = 16) List<@IntRange(min = 0, max = 100_000) Integer> cuts) {
        TrackingAllocator alloc = new TrackingAllocator();
        EmbeddedChannel channel = WireFuzzSupport.channel(alloc, new StartupDecoder());
        channel.pipeline().addLast(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ctx.fireChannelRead(msg);
                // After passing it on: removing the decoder flushes its buffered bytes downstream
                // at once, and they must not overtake the StartupMessage.
                if (msg instanceof StartupMessage) {
                    ctx.pipeline().replace(StartupDecoder.class, "frames", new FrameDecoder());
                }
            }
        });
        ByteArrayOutputStream stream = new ByteArrayOutputStream();
        stream.writeBytes(WireFuzzSupport.encode(startup));
        stream.writeBytes(WireFuzzSupport.encode(messages).bytes());
        List<Object> received = new ArrayList<>();
        List<FrontendMessage> decoded = new ArrayList<>();
        try {
            assertThat(WireFuzzSupport.feed(channel, alloc, stream.toByteArray(), cuts, received)).isNull();
            assertThat(received).isNotEmpty();
            assertThat(received.get(0)).isEqualTo(startup);
            for (Object frame : received.subList(1, received.size())) {
                decoded.add(FrontendMessages.decode((RawFrame) frame));
            }
            assertThat(decoded).isEqualTo(messages);
        } finally {
            WireFuzzSupport.releaseAll(received);
            decoded.forEach(ReferenceCountUtil::release);
        }
        assertThat(channel.finishAndReleaseAll()).isFalse();
        alloc.assertAllReleased();
    }

    @Provide
    Arbitrary<StartupMessage> startupMessages() {
        return WireArbitraries.startupMessage();
    }

    @Property(tries = 200)
    void startupPacketsDecodeTheSameWhateverTheChunking(
            @ForAll("startupPackets") StartupPacket packet,
            @ForAll @Size(max = 16) List<@IntRange(min = 0, max = 100_000) Integer> cuts) {
        TrackingAllocator alloc = new TrackingAllocator();
        EmbeddedChannel channel = WireFuzzSupport.channel(alloc, new StartupDecoder());
        List<Object> received = new ArrayList<>();
        Throwable failure = WireFuzzSupport.feed(channel, alloc, WireFuzzSupport.encode(packet), cuts, received);
        assertThat(failure).isNull();
        assertThat(received).containsExactly(packet);
        assertThat(channel.finishAndReleaseAll()).isFalse();
        alloc.assertAllReleased();
    }
}
