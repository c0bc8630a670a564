package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.DefaultByteBufHolder;

/**
 * One typed protocol frame exactly as it came off the wire, cut by {@link FrameDecoder}.
 * <pre>
 * Byte1   type
 * Int32   length of the rest, counting these four bytes
 * Byte[n] body, n = length - 4
 * </pre>
 * {@link #content()} is the complete frame (a retained slice of the received bytes), so a message
 * the proxy does not change is forwarded by writing {@code content()} (or the frame itself through
 * {@link MessageEncoder}) without a copy. Decoding to a record ({@link FrontendMessages},
 * {@link BackendMessages}) never consumes the frame: the caller still owns it and releases it.
 */
public final class RawFrame extends DefaultByteBufHolder {
    /** Type byte plus Int32 length. */
    public static final int HEADER_LENGTH = 5;

    private RawFrame(ByteBuf frame) {
        super(frame);
    }

    /**
     * Takes ownership of {@code frame}, whose readable bytes must be exactly one complete typed
     * frame; on a mismatch it throws and the caller keeps ownership.
     */
    public static RawFrame wrap(ByteBuf frame) {
        int readable = frame.readableBytes();
        if (readable < HEADER_LENGTH) {
            throw new ProtocolException("incomplete message header: " + readable + " bytes");
        }
        int length = frame.getInt(frame.readerIndex() + 1);
        if (length != readable - 1) {
            throw new ProtocolException("message length " + length + " does not match the "
                    + (readable - 1) + " bytes that follow the type byte");
        }
        return new RawFrame(frame);
    }

    /** Frames a decoded (or newly built) message; the caller owns the result. */
    public static RawFrame of(WireMessage message, ByteBufAllocator alloc) {
        if (message instanceof StartupPacket) {
            throw new IllegalArgumentException("startup packets are untyped and cannot be a RawFrame");
        }
        ByteBuf encoded = message.encode(alloc);
        try {
            return wrap(encoded);
        } catch (RuntimeException e) {
            encoded.release();
            throw e;
        }
    }

    /** Frame from the constructor used by the decoder, whose bounds are already checked. */
    static RawFrame trusted(ByteBuf frame) {
        return new RawFrame(frame);
    }

    public char type() {
        return (char) (content().getByte(content().readerIndex()) & 0xFF);
    }

    /** The bytes after the 5-byte header, as a slice: not retained, valid while this frame is. */
    public ByteBuf body() {
        ByteBuf frame = content();
        return frame.slice(frame.readerIndex() + HEADER_LENGTH, frame.readableBytes() - HEADER_LENGTH);
    }

    public int bodyLength() {
        return content().readableBytes() - HEADER_LENGTH;
    }

    /** Total bytes on the wire: type byte, length word and body. */
    public int frameLength() {
        return content().readableBytes();
    }

    @Override
    public RawFrame copy() {
        return (RawFrame) super.copy();
    }

    @Override
    public RawFrame duplicate() {
        return (RawFrame) super.duplicate();
    }

    @Override
    public RawFrame retainedDuplicate() {
        return (RawFrame) super.retainedDuplicate();
    }

    @Override
    public RawFrame replace(ByteBuf content) {
        return wrap(content);
    }

    @Override
    public RawFrame retain() {
        super.retain();
        return this;
    }

    @Override
    public RawFrame retain(int increment) {
        super.retain(increment);
        return this;
    }

    @Override
    public RawFrame touch() {
        super.touch();
        return this;
    }

    @Override
    public RawFrame touch(Object hint) {
        super.touch(hint);
        return this;
    }

    @Override
    public String toString() {
        if (refCnt() == 0) {
            return "RawFrame[released]";
        }
        return "RawFrame['" + printable(type()) + "', " + frameLength() + " bytes]";
    }

    static String printable(char type) {
        return type >= 0x20 && type < 0x7F ? String.valueOf(type) : String.format("\\x%02x", (int) type);
    }
}
