package dev.pgpolicy.proxy.session;

import dev.pgpolicy.proxy.wire.DataRowRun;
import dev.pgpolicy.proxy.wire.ErrorResponse;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The relay of server bytes the proxy does not change: one frame, or a {@link DataRowRun} of
 * consecutive DataRows written whole.
 *
 * <p>A run is written as one slice of the receive buffer when the rows go out as they came: no
 * filter, or one that only counts them against a row limit ({@link RowFilter#rewritesRows} false).
 * Counting needs no row decoded: a row is one frame, so the filter is asked once per row of the
 * run, in order, exactly as for single rows, and the rows it admits before a refusal still go as
 * one write. Statement audit takes its row counts from CommandComplete, not from the rows.
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
     * Writes {@code bytes} to {@code target}; once {@code target}'s outbound buffer passes its high
     * water mark (a server not keeping up, a client not reading a large result), {@code source}
     * stops being read until {@code target} drains, so the proxy never buffers without bound.
     */
    static boolean writeHoldingBack(Channel target, Channel source, ByteBuf bytes) {
        target.write(bytes);
        if (!target.isWritable()) {
            source.config().setAutoRead(false);
        }
        return true;
    }
}
