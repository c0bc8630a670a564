package dev.pgpolicy.fuzz.wire;

import static dev.pgpolicy.fuzz.wire.WireFuzzSupport.assertProtocolFailure;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpolicy.proxy.wire.BackendMessage;
import dev.pgpolicy.proxy.wire.FrameDecoder;
import dev.pgpolicy.proxy.wire.FrontendMessage;
import dev.pgpolicy.proxy.wire.GSSENCRequest;
import dev.pgpolicy.proxy.wire.RawFrame;
import dev.pgpolicy.proxy.wire.SSLRequest;
import dev.pgpolicy.proxy.wire.SqlState;
import dev.pgpolicy.proxy.wire.StartupDecoder;
import dev.pgpolicy.proxy.wire.StartupPacket;
import dev.pgpolicy.proxy.wire.WireMessage;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * Garbage in, ProtocolException out: random and corrupted byte streams make the decoders either
 * produce messages or fail with a ProtocolException (08P01, or 22021 for text that is not UTF-8,
 * or 0A000 for an unsupported startup protocol), never another exception, and every buffer is
 * released whatever happens.
 */
class MalformedInputProperties {
    private static final SqlState[] MESSAGE_FAILURES = {SqlState.PROTOCOL_VIOLATION, SqlState.CHARACTER_NOT_IN_REPERTOIRE};
    private static final SqlState[] STARTUP_FAILURES = {
        SqlState.PROTOCOL_VIOLATION, SqlState.CHARACTER_NOT_IN_REPERTOIRE, SqlState.FEATURE_NOT_SUPPORTED
    };

    @Provide
    Arbitrary<List<FrontendMessage>> frontendStreams() {
        return Arbitraries.oneOf(
                WireArbitraries.frontendMessage().list().ofMinSize(1).ofMaxSize(6),
                WireArbitraries.authenticationResponse().list().ofMinSize(1).ofMaxSize(2));
    }

    @Provide
    Arbitrary<List<BackendMessage>> backendStreams() {
        return WireArbitraries.backendMessage().list().ofMinSize(1).ofMaxSize(6);
    }

    @Provide
    Arbitrary<StartupPacket> startupPackets() {
        return WireArbitraries.startupPacket();
    }

    @Provide
    Arbitrary<List<Mutation>> mutations() {
        return Mutation.mutations().list().ofMinSize(1).ofMaxSize(3);
    }

    /** Type bytes of every message in both directions, plus a few that mean nothing. */
    @Provide
    Arbitrary<Byte> typeBytes() {
        return Arbitraries.oneOf(
                Arbitraries.of("QPBDECSHXdcfFpRKZTDIENs123ntGHWAvV".chars().mapToObj(c -> (byte) c).toList()),
                Arbitraries.bytes());
    }

    /**
     * Cuts the stream with a FrameDecoder whose limit is the pre-authentication one, then runs
     * every decoder over every frame.
     */
    private static void assertTypedStreamFailsOnlyWithProtocolExceptions(byte[] input, List<Integer> cuts) {
        TrackingAllocator alloc = new TrackingAllocator();
        EmbeddedChannel channel = WireFuzzSupport.channel(alloc,
                new FrameDecoder(FrameDecoder.MAX_FRAME_LENGTH_BEFORE_AUTHENTICATION));
        List<Object> frames = new ArrayList<>();
        List<Object> decoded = new ArrayList<>();
        try {
            Throwable failure = WireFuzzSupport.feed(channel, alloc, input, cuts, frames);
            if (failure != null) {
                assertProtocolFailure(failure, SqlState.PROTOCOL_VIOLATION);
            }
            for (Object frame : frames) {
                for (Function<RawFrame, ?> decoder : WireFuzzSupport.allDecoders()) {
                    WireFuzzSupport.decodeOrProtocolFailure(decoder, (RawFrame) frame, decoded, MESSAGE_FAILURES);
                }
            }
        } finally {
            WireFuzzSupport.releaseAll(frames);
            WireFuzzSupport.releaseAll(decoded);
        }
        channel.finishAndReleaseAll();
        alloc.assertAllReleased();
    }

    private static void assertStartupFailsOnlyWithProtocolExceptions(byte[] input, List<Integer> cuts) {
        TrackingAllocator alloc = new TrackingAllocator();
        EmbeddedChannel channel = WireFuzzSupport.channel(alloc, new StartupDecoder());
        List<Object> packets = new ArrayList<>();
        Throwable failure = WireFuzzSupport.feed(channel, alloc, input, cuts, packets);
        if (failure != null) {
            assertProtocolFailure(failure, STARTUP_FAILURES);
        }
        assertThat(packets).allMatch(p -> p instanceof StartupPacket);
        channel.finishAndReleaseAll();
        alloc.assertAllReleased();
    }

    private static byte[] mutate(WireFuzzSupport.Stream stream, List<Mutation> mutations, boolean typed) {
        byte[] bytes = stream.bytes();
        for (Mutation mutation : mutations) {
            bytes = mutation.apply(bytes, stream.offsets(), typed);
        }
        return bytes;
    }

    @Property(tries = 300)
    void randomBytesIntoTheFrameDecoder(
            @ForAll @Size(max = 300) byte[] input,
            @ForAll @Size(max = 8) List<@IntRange(min = 0, max = 10_000) Integer> cuts) {
        assertTypedStreamFailsOnlyWithProtocolExceptions(input, cuts);
    }

    @Property(tries = 800)
    void randomBodiesUnderEveryTypeByte(
            @ForAll("typeBytes") byte type,
            @ForAll @Size(max = 80) byte[] body) {
        byte[] frame = new byte[5 + body.length];
        frame[0] = type;
        int length = 4 + body.length;
        frame[1] = (byte) (length >>> 24);
        frame[2] = (byte) (length >>> 16);
        frame[3] = (byte) (length >>> 8);
        frame[4] = (byte) length;
        System.arraycopy(body, 0, frame, 5, body.length);
        assertTypedStreamFailsOnlyWithProtocolExceptions(frame, List.of());
    }

    @Property(tries = 400)
    void mutatedFrontendStreams(
            @ForAll("frontendStreams") List<FrontendMessage> messages,
            @ForAll("mutations") List<Mutation> mutations,
            @ForAll @Size(max = 6) List<@IntRange(min = 0, max = 10_000) Integer> cuts) {
        WireFuzzSupport.Stream stream = WireFuzzSupport.encode(messages);
        assertTypedStreamFailsOnlyWithProtocolExceptions(mutate(stream, mutations, true), cuts);
    }

    @Property(tries = 400)
    void mutatedBackendStreams(
            @ForAll("backendStreams") List<BackendMessage> messages,
            @ForAll("mutations") List<Mutation> mutations,
            @ForAll @Size(max = 6) List<@IntRange(min = 0, max = 10_000) Integer> cuts) {
        WireFuzzSupport.Stream stream = WireFuzzSupport.encode(messages);
        assertTypedStreamFailsOnlyWithProtocolExceptions(mutate(stream, mutations, true), cuts);
    }

    /** CVE-2021-23214: nothing may ride in clear text behind an encryption request. */
    @Property(tries = 200)
    void anyByteBufferedBehindAnEncryptionRequestIsRejected(
            @ForAll boolean gssapi,
            @ForAll @Size(min = 1, max = 64) byte[] trailing) {
        TrackingAllocator alloc = new TrackingAllocator();
        EmbeddedChannel channel = WireFuzzSupport.channel(alloc, new StartupDecoder());
        byte[] request = WireFuzzSupport.encode(gssapi ? GSSENCRequest.INSTANCE : SSLRequest.INSTANCE);
        byte[] input = new byte[request.length + trailing.length];
        System.arraycopy(request, 0, input, 0, request.length);
        System.arraycopy(trailing, 0, input, request.length, trailing.length);
        List<Object> packets = new ArrayList<>();
        Throwable failure = WireFuzzSupport.feed(channel, alloc, input, List.of(), packets);
        assertThat(packets).isEmpty();
        assertThat(assertProtocolFailure(failure, SqlState.PROTOCOL_VIOLATION).getMessage())
                .startsWith("received unencrypted data after");
        assertThat(channel.finishAndReleaseAll()).isFalse();
        alloc.assertAllReleased();
    }

    @Property(tries = 300)
    void randomBytesIntoTheStartupDecoder(
            @ForAll @Size(max = 64) byte[] input,
            @ForAll @Size(max = 6) List<@IntRange(min = 0, max = 1_000) Integer> cuts) {
        assertStartupFailsOnlyWithProtocolExceptions(input, cuts);
    }

    @Property(tries = 400)
    void mutatedStartupPackets(
            @ForAll("startupPackets") StartupPacket packet,
            @ForAll("mutations") List<Mutation> mutations,
            @ForAll @Size(max = 6) List<@IntRange(min = 0, max = 10_000) Integer> cuts) {
        WireFuzzSupport.Stream stream = WireFuzzSupport.encode(List.<WireMessage>of(packet));
        assertStartupFailsOnlyWithProtocolExceptions(mutate(stream, mutations, false), cuts);
    }
}
