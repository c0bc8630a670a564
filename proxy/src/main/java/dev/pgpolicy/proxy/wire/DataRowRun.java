package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;

/**
 * Two or more consecutive complete DataRow frames ('D') that arrived in one receive buffer, cut
 * by {@link FrameDecoder} when it is asked for runs ({@link FrameDecoder#withDataRowRuns}).
 * {@link #content()} is the frames exactly as on the wire, back to back (a retained slice of the
 * received bytes), so a result the proxy does not look into is relayed with one write per receive
 * buffer instead of one per row. Each frame's length word was checked against the decoder's limit;
 * the bodies are not decoded.
 *
 * <p>Where the rows have to be seen one by one (masking, a row limit), {@link #pollFrame} hands
 * them out in order as {@link RawFrame}s over the same memory. The holder owns one reference:
 * release it, or hand its content to a channel write. Frames already polled are owned by the
 * caller and stay valid after the run is released.
 */
public final class DataRowRun extends DefaultByteBufHolder {

    private final int rowCount;
    /** Index of the next frame {@link #pollFrame} returns, relative to the run's reader index. */
    private int polledBytes;
    private int polledRows;

    DataRowRun(ByteBuf frames, int rowCount) {
        super(frames);
        this.rowCount = rowCount;
    }

    /** DataRow frames in the run (at least two). */
    public int rowCount() {
        return rowCount;
    }

    /** Rows {@link #pollFrame} has not handed out yet. */
    public int remainingRows() {
        return rowCount - polledRows;
    }

    /** The index, in {@link #content()}, of the first byte of the next row {@link #pollFrame} returns. */
    public int nextFrameIndex() {
        return content().readerIndex() + polledBytes;
    }

    /**
     * The next row as a frame of its own (a retained slice the caller owns), or null after the
     * last one.
     */
    public RawFrame pollFrame() {
        if (polledRows == rowCount) {
            return null;
        }
        ByteBuf frames = content();
        int index = frames.readerIndex() + polledBytes;
        int frameLength = 1 + frames.getInt(index + 1);
        polledBytes += frameLength;
        polledRows++;
        return RawFrame.trusted(frames.retainedSlice(index, frameLength));
    }

    /**
     * Counts the next row as polled without handing out a frame, for a caller that reads or
     * rewrites it where it lies in {@link #content()} (at {@link #nextFrameIndex()} before this
     * call); returns its frame length, type byte included.
     */
    public int skipFrame() {
        if (polledRows == rowCount) {
            throw new IndexOutOfBoundsException("no row left of " + rowCount);
        }
        int frameLength = 1 + content().getInt(nextFrameIndex() + 1);
        polledBytes += frameLength;
        polledRows++;
        return frameLength;
    }

    /**
     * A retained slice over the first {@code rows} rows not polled yet, which then count as polled;
     * the caller owns it.
     */
    public ByteBuf pollRows(int rows) {
        if (rows < 0 || rows > remainingRows()) {
            throw new IndexOutOfBoundsException(rows + " rows of " + remainingRows());
        }
        ByteBuf frames = content();
        int start = frames.readerIndex() + polledBytes;
        int end = start;
        for (int i = 0; i < rows; i++) {
            end += 1 + frames.getInt(end + 1);
        }
        polledBytes += end - start;
        polledRows += rows;
        return frames.retainedSlice(start, end - start);
    }

    /** A run over {@code content}, which must hold the same frames; nothing of it counts as polled. */
    @Override
    public DataRowRun replace(ByteBuf content) {
        return new DataRowRun(content, rowCount);
    }

    @Override
    public DataRowRun retain() {
        super.retain();
        return this;
    }

    @Override
    public DataRowRun retain(int increment) {
        super.retain(increment);
        return this;
    }

    @Override
    public DataRowRun touch() {
        super.touch();
        return this;
    }

    @Override
    public DataRowRun touch(Object hint) {
        super.touch(hint);
        return this;
    }

    @Override
    public String toString() {
        return refCnt() == 0 ? "DataRowRun[released]"
                : "DataRowRun[" + rowCount + " rows, " + content().readableBytes() + " bytes]";
    }
}
