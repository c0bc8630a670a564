package dev.pgpolicy.proxy.session;

import dev.pgpolicy.proxy.wire.DataRow;
import io.netty.buffer.ByteBufAllocator;

/** Rewrites the DataRows of one result (masking). */
public interface RowFilter {

    /** Rows pass as they came, without being decoded. */
    RowFilter UNCHANGED = (row, alloc) -> row;

    /**
     * Returns the row to send to the client: {@code row} itself, or a new row (then {@code row}
     * must be released by the filter).
     */
    DataRow filter(DataRow row, ByteBufAllocator alloc);
}
