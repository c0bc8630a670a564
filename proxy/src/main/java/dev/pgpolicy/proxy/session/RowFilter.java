package dev.pgpolicy.proxy.session;

import dev.pgpolicy.proxy.wire.DataRow;
import dev.pgpolicy.proxy.wire.ErrorResponse;
import io.netty.buffer.ByteBufAllocator;
import java.util.Optional;

/** Rewrites the DataRows of one result (masking) and counts them against a row limit. */
public interface RowFilter {

    /** Rows pass as they came, without being decoded. */
    RowFilter UNCHANGED = (row, alloc) -> row;

    /**
     * Returns the row to send to the client: {@code row} itself, or a new row (then {@code row}
     * must be released by the filter).
     */
    DataRow filter(DataRow row, ByteBufAllocator alloc);

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
