package dev.pgpolicy.fuzz.wire;

import dev.pgpolicy.proxy.wire.BackendMessages;
import dev.pgpolicy.proxy.wire.FrontendMessage;
import dev.pgpolicy.proxy.wire.FrontendMessages;
import dev.pgpolicy.proxy.wire.GSSResponse;
import dev.pgpolicy.proxy.wire.PasswordMessage;
import dev.pgpolicy.proxy.wire.ProtocolException;
import dev.pgpolicy.proxy.wire.RawFrame;
import dev.pgpolicy.proxy.wire.SASLInitialResponse;
import dev.pgpolicy.proxy.wire.SASLResponse;
import dev.pgpolicy.proxy.wire.SqlState;
import dev.pgpolicy.proxy.wire.WireMessage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/** Encoding, chunked feeding and failure classification shared by the wire properties. */
final class WireFuzzSupport {
    private WireFuzzSupport() {
    }

    /** The encoded stream and where each message starts in it. */
    record Stream(byte[] bytes, int[] offsets) {
    }

    static Stream encode(List<? extends WireMessage> messages) {
        ByteBuf out = Unpooled.buffer();
        try {
            int[] offsets = new int[messages.size()];
            for (int i = 0; i < messages.size(); i++) {
                offsets[i] = out.writerIndex();
                messages.get(i).encode(out);
            }
            return new Stream(ByteBufUtil.getBytes(out), offsets);
        } finally {
            out.release();
        }
    }

    static byte[] encode(WireMessage message) {
        return encode(List.of(message)).bytes();
    }

    /** Cut positions in 0..length, from generated numbers, sorted and distinct. */
    static int[] cutPoints(List<Integer> cuts, int length) {
        TreeSet<Integer> points = new TreeSet<>();
        for (int cut : cuts) {
            points.add(Math.floorMod(cut, length + 1));
        }
        return points.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * Writes {@code input} into {@code channel} in the chunks the cut points define and collects
     * what comes out. Stops at the first failure, which it returns (null when there was none).
     */
    static Throwable feed(EmbeddedChannel channel, TrackingAllocator alloc, byte[] input, List<Integer> cuts,
                          List<Object> received) {
        int[] points = cutPoints(cuts, input.length);
        int from = 0;
        try {
            for (int point : points) {
                channel.writeInbound(alloc.copyOf(input, from, point));
                drain(channel, received);
                from = point;
            }
            channel.writeInbound(alloc.copyOf(input, from, input.length));
            drain(channel, received);
            return null;
        } catch (RuntimeException e) {
            drain(channel, received);
            return e;
        }
    }

    static void drain(EmbeddedChannel channel, List<Object> into) {
        for (Object msg = channel.readInbound(); msg != null; msg = channel.readInbound()) {
            into.add(msg);
        }
    }

    static EmbeddedChannel channel(TrackingAllocator alloc, io.netty.channel.ChannelHandler handler) {
        EmbeddedChannel channel = new EmbeddedChannel();
        channel.config().setAllocator(alloc);
        channel.pipeline().addLast(handler);
        return channel;
    }

    static void releaseAll(List<?> messages) {
        for (Object message : messages) {
            ReferenceCountUtil.release(message);
        }
    }

    /**
     * The failure must be a ProtocolException (possibly wrapped by Netty in a DecoderException)
     * with one of the allowed SQLSTATEs; anything else escapes as an AssertionError carrying it.
     */
    static ProtocolException assertProtocolFailure(Throwable thrown, SqlState... allowed) {
        Throwable cause = thrown;
        if (cause instanceof DecoderException && cause.getCause() != null) {
            cause = cause.getCause();
        }
        if (!(cause instanceof ProtocolException protocolException)) {
            throw new AssertionError("expected a ProtocolException, got " + thrown, thrown);
        }
        if (!Set.of(allowed).contains(protocolException.sqlState())) {
            throw new AssertionError("unexpected SQLSTATE " + protocolException.sqlState() + " (allowed "
                    + Arrays.toString(allowed) + ")", protocolException);
        }
        return protocolException;
    }

    /** Runs a decoder; returns its result, or null after checking that it failed as allowed. */
    static <T> T decodeOrProtocolFailure(Function<RawFrame, T> decoder, RawFrame frame, List<Object> decoded,
                                         SqlState... allowed) {
        try {
            T message = decoder.apply(frame);
            decoded.add(message);
            return message;
        } catch (RuntimeException e) {
            assertProtocolFailure(e, allowed);
            return null;
        }
    }

    /** The stage-specific decoder for a 'p' message. */
    static FrontendMessage decodeAuthenticationResponse(FrontendMessage expected, RawFrame frame) {
        if (expected instanceof PasswordMessage) {
            return FrontendMessages.decodePassword(frame);
        }
        if (expected instanceof SASLInitialResponse) {
            return FrontendMessages.decodeSaslInitialResponse(frame);
        }
        if (expected instanceof SASLResponse) {
            return FrontendMessages.decodeSaslResponse(frame);
        }
        if (expected instanceof GSSResponse) {
            return FrontendMessages.decodeGssResponse(frame);
        }
        throw new AssertionError("not an authentication response: " + expected);
    }

    /** Every frontend decoder, the 'p' ones included, then the backend one: all must be total. */
    static List<Function<RawFrame, ?>> allDecoders() {
        List<Function<RawFrame, ?>> decoders = new ArrayList<>();
        decoders.add(FrontendMessages::decode);
        decoders.add(FrontendMessages::decodePassword);
        decoders.add(FrontendMessages::decodeSaslInitialResponse);
        decoders.add(FrontendMessages::decodeSaslResponse);
        decoders.add(FrontendMessages::decodeGssResponse);
        decoders.add(BackendMessages::decode);
        return decoders;
    }
}
