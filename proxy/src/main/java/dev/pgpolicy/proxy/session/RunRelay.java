package dev.pgpolicy.proxy.session;

import dev.pgpolicy.proxy.wire.BackendMessages;
import dev.pgpolicy.proxy.wire.DataRow;
import dev.pgpolicy.proxy.wire.DataRowRun;
import dev.pgpolicy.proxy.wire.ErrorResponse;
import dev.pgpolicy.proxy.wire.RawFrame;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The relay of a {@link DataRowRun}, consecutive DataRows of one receive buffer, with one write
 * instead of one per row; and of server bytes in general, holding the server back while the
 * client does not keep up.
 *
 * <p>A run is written as one slice of the receive buffer when the rows go out as they came: no
 * filter, or one that only counts them against a row limit ({@link RowFilter#rewritesRows} false).
 * Counting needs no row decoded: a row is one frame, so the filter is asked once per row of the
 * run, in order, exactly as for single rows, and the rows it admits before a refusal still go as
 * one write. Statement audit takes its row counts from CommandComplete, not from the rows. Rows a
 * filter rewrites (masking) go as one write too ({@link #relayRewritten}).
 */
final class RunRelay {

    private RunRelay() {
    }

    /**
     * Writes the leading rows of {@code run} that may go as they came and takes them out of the
     * run: all of them without a filter; with a counting filter, those it admits. The row it
     * refuses is dropped and {@code cutOff} gets the filter's error, after the admitted rows were
     * written. Rows left in the run (all of them, when the filter rewrites rows or the request is
     * the session's own stand-in, whose replies are not relayed) are the caller's to handle one by
     * one.
     */
    static void relayCounted(DataRowRun run, InFlightRequest request, RowFilter filter, Channel client,
            Channel upstream, Consumer<ErrorResponse> cutOff) {
        boolean counts = filter != RowFilter.UNCHANGED;
        if (request.synthetic() || counts && filter.rewritesRows()) {
            return;
        }
        int rows = run.remainingRows();
        int admitted = rows;
        ErrorResponse refusal = null;
        if (counts) {
            for (int i = 0; i < rows; i++) {
                Optional<ErrorResponse> refused = filter.admit();
                if (refused.isPresent()) {
                    admitted = i;
                    refusal = refused.get();
                    break;
                }
            }
        }
        if (admitted > 0) {
            writeHoldingBack(client, upstream, run.pollRows(admitted));
        }
        if (refusal != null) {
            run.pollRows(1).release();
            cutOff.accept(refusal);
        }
    }

    /**
     * Writes the rows of {@code run} through a filter that rewrites them (masking), as one write:
     * rows the filter leaves as they were, or masks in place, stay where they are and go out as a
     * slice of the run; a run with a rebuilt row is gathered into one new buffer, the rows around
     * it copied in bulk. Each row is filtered where it lies in the run ({@link RowFilter#filterFrame}):
     * per row this costs the filter and a copy of about a hundred bytes, instead of a frame and a
     * row object, a pipeline write, an outbound-buffer entry and an iovec of its own. Each row is counted
     * ({@link RowFilter#admit}) before it is filtered; at a refusal the rows before it are written,
     * the refused row is dropped, {@code cutOff} gets the error, and the rest stays in the run.
     * Does nothing for a request whose replies are not relayed, or a filter that does not rewrite.
     */
    static void relayRewritten(DataRowRun run, InFlightRequest request, RowFilter filter, Channel client,
            Channel upstream, Consumer<ErrorResponse> cutOff) {
        if (request.synthetic() || filter == RowFilter.UNCHANGED || !filter.rewritesRows()) {
            return;
        }
        ByteBuf frames = run.content();
        ByteBuf gathered = null;
        // Rows filtered but not written yet that are still (possibly rewritten) in the run's bytes.
        int pendingStart = run.nextFrameIndex();
        int pendingEnd = pendingStart;
        ErrorResponse refusal = null;
        try {
            while (run.remainingRows() > 0) {
                Optional<ErrorResponse> refused = filter.admit();
                if (refused.isPresent()) {
                    refusal = refused.get();
                    break;
                }
                int frameStart = run.nextFrameIndex();
                int frameEnd = frameStart + run.skipFrame();
                if (gathered != null) {
                    // A rewritten frame is appended to gathered, after the rows before it.
                    gathered.writeBytes(frames, pendingStart, pendingEnd - pendingStart);
                    pendingStart = frameStart;
                    pendingEnd = frameStart;
                }
                RowFilter.FrameOutcome outcome = filter.filterFrame(frames, frameStart, client.alloc(), gathered);
                if (outcome == RowFilter.FrameOutcome.NEEDS_OUTPUT) {
                    gathered = client.alloc().buffer(frames.writerIndex() - pendingStart);
                    gathered.writeBytes(frames, pendingStart, pendingEnd - pendingStart);
                    outcome = filter.filterFrame(frames, frameStart, client.alloc(), gathered);
                }
                switch (outcome) {
                    case KEPT:
                        pendingEnd = frameEnd;
                        break;
                    case REWRITTEN:
                        pendingStart = frameEnd;
                        pendingEnd = frameEnd;
                        break;
                    case NEEDS_OUTPUT:
                        throw new IllegalStateException("the row filter asked for an output buffer it was given");
                }
            }
            ByteBuf out;
            if (gathered == null) {
                out = pendingEnd > pendingStart ? frames.retainedSlice(pendingStart, pendingEnd - pendingStart) : null;
            } else {
                gathered.writeBytes(frames, pendingStart, pendingEnd - pendingStart);
                out = gathered;
                gathered = null;
            }
            if (out != null) {
                writeHoldingBack(client, upstream, out);
            }
        } finally {
            if (gathered != null) {
                gathered.release();
            }
        }
        if (refusal != null) {
            run.pollRows(1).release();
            cutOff.accept(refusal);
        }
    }

    /**
     * Writes {@code bytes} to {@code target}; once {@code target}'s outbound buffer passes its high
     * water mark (a server not keeping up, a client not reading a large result), {@code source}
     * stops being read until {@code target} drains, so the proxy never buffers without bound.
     */
    static boolean writeHoldingBack(Channel target, Channel source, ByteBuf bytes) {
        // Nobody waits for a relayed write: a void promise saves a promise per frame, allocated
        // and completed for nothing. A write that fails reaches the target's exceptionCaught,
        // which ends the session as the failed connection's next read would.
        target.write(bytes, target.voidPromise());
        if (!target.isWritable()) {
            source.config().setAutoRead(false);
        }
        return true;
    }
}
