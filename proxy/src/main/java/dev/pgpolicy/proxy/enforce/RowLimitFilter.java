package dev.pgpolicy.proxy.enforce;

import dev.pgpolicy.policy.EffectiveLimit;
import dev.pgpolicy.proxy.session.RowFilter;
import dev.pgpolicy.proxy.wire.DataRow;
import dev.pgpolicy.proxy.wire.ErrorResponse;
import dev.pgpolicy.proxy.wire.SqlState;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The {@code rows N per query} limit on one result: counts the DataRows of one statement (one
 * result of a simple Query, one portal across the Executes that fetch it in batches, or one SQL
 * cursor across its FETCH statements) and
 * refuses row N+1 and every row after it with 54000 (program_limit_exceeded) naming the rule.
 * Rows it admits pass through {@code inner} (masking, or unchanged). Used on one session's event
 * loop only.
 */
final class RowLimitFilter implements RowFilter {

    private final RowFilter inner;
    private final EffectiveLimit limit;
    /** Built on the first refused row: a filter is made for every result under a limit, few ever refuse. */
    private ErrorResponse refusal;
    /** Rows admitted so far; shared by the FETCH statements of one SQL cursor (see {@link CursorRows}). */
    private final AtomicLong rows;

    RowLimitFilter(RowFilter inner, EffectiveLimit limit, AtomicLong rows) {
        this.inner = Objects.requireNonNull(inner);
        this.rows = Objects.requireNonNull(rows);
        this.limit = Objects.requireNonNull(limit);
    }

    /**
     * {@code inner} limited by {@code limit}, or {@code inner} itself when no row limit is in
     * force; {@code cursor} is the running count of the SQL cursor the statement fetches from.
     */
    static RowFilter limit(RowFilter inner, Optional<EffectiveLimit> limit, Optional<AtomicLong> cursor) {
        if (limit.isEmpty()) {
            return inner;
        }
        return new RowLimitFilter(inner, limit.get(), cursor.orElseGet(AtomicLong::new));
    }

    @Override
    public Optional<ErrorResponse> admit() {
        if (rows.get() >= limit.amount()) {
            if (refusal == null) {
                refusal = ErrorResponse.of(ErrorResponse.SEVERITY_ERROR, SqlState.PROGRAM_LIMIT_EXCEEDED,
                        "pgpolicy: statement returned more than " + limit.amount() + " rows, the limit of rule \""
                                + limit.ruleId() + "\"",
                        "the statement was cancelled; fetch fewer rows (LIMIT, a narrower WHERE) or in several statements");
            }
            return Optional.of(refusal);
        }
        rows.incrementAndGet();
        return inner.admit();
    }

    @Override
    public boolean rewritesRows() {
        return inner != RowFilter.UNCHANGED && inner.rewritesRows();
    }

    @Override
    public DataRow filter(DataRow row, ByteBufAllocator alloc) {
        return inner.filter(row, alloc);
    }

    /** The inner filter's own frame path, so a row limit does not send masked rows through the decoded one. */
    @Override
    public FrameOutcome filterFrame(ByteBuf frames, int frameIndex, ByteBufAllocator alloc, ByteBuf out) {
        return inner.filterFrame(frames, frameIndex, alloc, out);
    }
}
