package dev.pgpolicy.fuzz.wire;

import static dev.pgpolicy.fuzz.wire.WireFuzzSupport.encode;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpolicy.proxy.wire.BackendMessage;
import dev.pgpolicy.proxy.wire.BackendMessages;
import dev.pgpolicy.proxy.wire.FrontendMessage;
import dev.pgpolicy.proxy.wire.FrontendMessages;
import dev.pgpolicy.proxy.wire.RawFrame;
import dev.pgpolicy.proxy.wire.StartupDecoder;
import dev.pgpolicy.proxy.wire.StartupPacket;
import dev.pgpolicy.proxy.wire.WireMessage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import java.util.function.Function;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** decode(encode(m)) equals m, and re-encodes to the same bytes, for every message type. */
class CodecRoundTripProperties {

    @Provide
    Arbitrary<FrontendMessage> frontendMessages() {
        return WireArbitraries.frontendMessage();
    }

    @Provide
    Arbitrary<FrontendMessage> authenticationResponses() {
        return WireArbitraries.authenticationResponse();
    }

    @Provide
    Arbitrary<BackendMessage> backendMessages() {
        return WireArbitraries.backendMessage();
    }

    @Provide
    Arbitrary<StartupPacket> startupPackets() {
        return WireArbitraries.startupPacket();
    }

    private static <T extends WireMessage> void assertRoundTrip(T message, Function<RawFrame, ? extends T> decoder) {
        TrackingAllocator alloc = new TrackingAllocator();
        byte[] expected = encode(message);
        ByteBuf encoded = alloc.buffer();
        message.encode(encoded);
        RawFrame frame = RawFrame.wrap(encoded);
        T decoded = decoder.apply(frame);
        try {
            assertThat(decoded).isEqualTo(message);
            assertThat(ByteBufUtil.getBytes(frame.content())).isEqualTo(expected);
            assertThat(encode(decoded)).isEqualTo(expected);
        } finally {
            ReferenceCountUtil.release(decoded);
            frame.release();
        }
        alloc.assertAllReleased();
    }

    @Property(tries = 600)
    void frontendMessagesRoundTrip(@ForAll("frontendMessages") FrontendMessage message) {
        assertRoundTrip(message, FrontendMessages::decode);
    }

    @Property(tries = 300)
    void authenticationResponsesRoundTripThroughTheirStageDecoder(
            @ForAll("authenticationResponses") FrontendMessage message) {
        assertRoundTrip(message, frame -> WireFuzzSupport.decodeAuthenticationResponse(message, frame));
    }

    @Property(tries = 800)
    void backendMessagesRoundTrip(@ForAll("backendMessages") BackendMessage message) {
        assertRoundTrip(message, BackendMessages::decode);
    }

    @Property(tries = 300)
    void startupPacketsRoundTrip(@ForAll("startupPackets") StartupPacket packet) {
        TrackingAllocator alloc = new TrackingAllocator();
        EmbeddedChannel channel = WireFuzzSupport.channel(alloc, new StartupDecoder());
        byte[] bytes = encode(packet);
        channel.writeInbound(alloc.copyOf(bytes, 0, bytes.length));
        Object decoded = channel.readInbound();
        assertThat(decoded).isEqualTo(packet);
        assertThat(encode((StartupPacket) decoded)).isEqualTo(bytes);
        assertThat((Object) channel.readInbound()).isNull();
        assertThat(channel.finishAndReleaseAll()).isFalse();
        alloc.assertAllReleased();
    }
}
