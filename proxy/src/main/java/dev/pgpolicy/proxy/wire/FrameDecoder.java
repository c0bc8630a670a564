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
 *
 * <p>On the server side it can emit consecutive DataRows as one {@link DataRowRun}
 * ({@link #withDataRowRuns}): a large result arrives as a few dozen rows per receive buffer, and
 * handing each row through the pipeline on its own (a frame object, a slice, a
 * {@code fireChannelRead}, a write) costs more than the proxy's whole work on a row it does not
 * look into. A run holds only complete frames of one receive buffer; an incomplete row ends it and
 * is cut once the rest has arrived, as any frame is.
 */
public final class FrameDecoder extends ByteToMessageDecoder {
    /** PostgreSQL's PQ_SMALL_MESSAGE_LIMIT: the largest message read before authentication. */
    public static final int MAX_FRAME_LENGTH_BEFORE_AUTHENTICATION = 10_000;

    /** PostgreSQL's MaxAllocSize (1 GiB - 1): no message can be larger than one allocation. */
    public static final int DEFAULT_MAX_FRAME_LENGTH = 0x3FFF_FFFF;

    private int maxFrameLength;
    private boolean failed;
    private final boolean dataRowRuns;

    public FrameDecoder() {
        this(DEFAULT_MAX_FRAME_LENGTH);
    }

    public FrameDecoder(int maxFrameLength) {
        this(maxFrameLength, false);
    }

    private FrameDecoder(int maxFrameLength, boolean dataRowRuns) {
        setMaxFrameLength(maxFrameLength);
        this.dataRowRuns = dataRowRuns;
    }

    /**
     * A decoder for the server's side of a connection that cuts two or more consecutive complete
     * DataRows of one receive buffer as one {@link DataRowRun}; every other frame, and a single
     * DataRow, is a {@link RawFrame} as usual.
     */
    public static FrameDecoder withDataRowRuns() {
        return new FrameDecoder(DEFAULT_MAX_FRAME_LENGTH, true);
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
        if (dataRowRuns && in.getByte(start) == DataRow.TYPE) {
            int rows = 1;
            int end = start + 1 + length;
            int limit = in.writerIndex();
            // Only complete frames within the limit join the run: anything else is left for the
            // next call, which checks and reports it as the first frame of its own.
            while (limit - end >= RawFrame.HEADER_LENGTH && in.getByte(end) == DataRow.TYPE) {
                int next = in.getInt(end + 1);
                if (next < 4 || next > maxFrameLength || limit - end - 1 < next) {
                    break;
                }
                end += 1 + next;
                rows++;
            }
            if (rows > 1) {
                out.add(new DataRowRun(in.readRetainedSlice(end - start), rows));
                return;
            }
        }
        out.add(RawFrame.trusted(in.readRetainedSlice(1 + length)));
    }
}
