package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Cuts the byte stream into typed frames and emits one {@link RawFrame} per frame, without
 * copying. Used in both directions (client to proxy and server to proxy).
 *
 * <p>The length word is checked as soon as the header arrives, before any body is buffered: a
 * length below 4 or above {@link #maxFrameLength()} is a {@link ProtocolException} (08P01). The
 * session starts with {@link #MAX_FRAME_LENGTH_BEFORE_AUTHENTICATION}, so an unauthenticated peer
 * cannot make the proxy buffer a gigabyte, and raises the limit once the client is authenticated,
 * as PostgreSQL does with PQ_SMALL_MESSAGE_LIMIT and PQ_LARGE_MESSAGE_LIMIT.
 *
 * <p>After a violation the stream can no longer be framed, so the decoder discards everything
 * that follows; the session answers FATAL and closes.
 */
public final class FrameDecoder extends ByteToMessageDecoder {
    /** PostgreSQL's PQ_SMALL_MESSAGE_LIMIT: the largest message read before authentication. */
    public static final int MAX_FRAME_LENGTH_BEFORE_AUTHENTICATION = 10_000;

    /** PostgreSQL's MaxAllocSize (1 GiB - 1): no message can be larger than one allocation. */
    public static final int DEFAULT_MAX_FRAME_LENGTH = 0x3FFF_FFFF;

    private int maxFrameLength;
    private boolean failed;

    public FrameDecoder() {
        this(DEFAULT_MAX_FRAME_LENGTH);
    }

    public FrameDecoder(int maxFrameLength) {
        setMaxFrameLength(maxFrameLength);
    }

    /** The largest accepted value of the length word (which counts itself, not the type byte). */
    public int maxFrameLength() {
        return maxFrameLength;
    }

    /** Takes effect from the next frame header; a frame already being buffered keeps its check. */
    public void setMaxFrameLength(int maxFrameLength) {
        if (maxFrameLength < 4 || maxFrameLength > DEFAULT_MAX_FRAME_LENGTH) {
            throw new IllegalArgumentException("maximum frame length must be between 4 and "
                    + DEFAULT_MAX_FRAME_LENGTH + ", not " + maxFrameLength);
        }
        this.maxFrameLength = maxFrameLength;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        if (in.readableBytes() < RawFrame.HEADER_LENGTH) {
            return;
        }
        int start = in.readerIndex();
        int length = in.getInt(start + 1);
        if (length < 4 || length > maxFrameLength) {
            failed = true;
            char type = (char) (in.getByte(start) & 0xFF);
            in.skipBytes(in.readableBytes());
            throw new ProtocolException(length < 4
                    ? "invalid message length " + length + " for message type '" + RawFrame.printable(type) + "'"
                    : "message type '" + RawFrame.printable(type) + "' has length " + length
                            + ", over the limit of " + maxFrameLength + " bytes");
        }
        if (in.readableBytes() - 1 < length) {
            return;
        }
        out.add(RawFrame.trusted(in.readRetainedSlice(1 + length)));
    }
}
