package dev.pgpolicy.proxy.session;

import dev.pgpolicy.proxy.wire.BackendMessages;
import dev.pgpolicy.proxy.wire.DataRow;
import dev.pgpolicy.proxy.wire.ErrorResponse;
import dev.pgpolicy.proxy.wire.RawFrame;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.Optional;

/** Rewrites the DataRows of one result (masking) and counts them against a row limit. */
public interface RowFilter {

    /** Rows pass as they came, without being decoded. */
    RowFilter UNCHANGED = (row, alloc) -> row;

    /** What {@link #filterFrame} did with one DataRow frame. */
    enum FrameOutcome {
        /** The frame goes as it now stands in the caller's buffer: unchanged, or rewritten in place. */
        KEPT,
        /** The row's new frame was appended to the output buffer; the old frame is not to be sent. */
        REWRITTEN,
        /** The row needs a new frame and no output buffer was given; nothing was changed. */
        NEEDS_OUTPUT
    }

    /**
     * Returns the row to send to the client: {@code row} itself, or a new row (then {@code row}
     * must be released by the filter).
     */
    DataRow filter(DataRow row, ByteBufAllocator alloc);

    /**
     * {@link #filter} for the DataRow frame (type byte onward) at {@code frameIndex} of
     * {@code frames}, a buffer of received rows the caller relays in one write: the frame is
     * rewritten where it lies when it keeps its length, or its new frame is appended to
     * {@code out}; with {@code out} null, a row that needs a new frame is left as it was
     * ({@link FrameOutcome#NEEDS_OUTPUT}) and the caller asks again with a buffer. The bytes sent
     * are those {@link #filter} gives. This default decodes the row as {@link #filter} needs it;
     * a filter that can read the frame in place overrides it to spare the per-row objects.
     */
    default FrameOutcome filterFrame(ByteBuf frames, int frameIndex, ByteBufAllocator alloc, ByteBuf out) {
        int frameLength = 1 + frames.getInt(frameIndex + 1);
        ByteBuf slice = frames.retainedSlice(frameIndex, frameLength);
        RawFrame frame;
        try {
            frame = RawFrame.wrap(slice);
        } catch (RuntimeException e) {
            slice.release();
            throw e;
        }
        try {
            DataRow row = (DataRow) BackendMessages.decode(frame);
            DataRow filtered = filter(row, alloc);
            if (filtered == row) {
                row.release();
                return FrameOutcome.KEPT;
            }
            try {
                if (out == null) {
                    return FrameOutcome.NEEDS_OUTPUT;
                }
                filtered.encode(out);
                return FrameOutcome.REWRITTEN;
            } finally {
                filtered.release();
            }
        } finally {
            frame.release();
        }
    }

    /**
     * Counts one more row of the result, before {@link #filter}. Empty while the row may reach
     * the client; otherwise the error that ends the statement in its place (a row limit), after
     * which the session relays no more rows of it and cancels it upstream.
     */
    default Optional<ErrorResponse> admit() {
        return Optional.empty();
    }

    /** False when {@link #filter} returns every row as it came (a filter that only counts): rows then pass undecoded. */
    default boolean rewritesRows() {
        return true;
    }
}
