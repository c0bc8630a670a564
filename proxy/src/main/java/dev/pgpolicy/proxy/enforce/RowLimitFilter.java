package dev.pgpolicy.proxy.enforce;

import dev.pgpolicy.policy.EffectiveLimit;
import dev.pgpolicy.proxy.session.RowFilter;
import dev.pgpolicy.proxy.wire.DataRow;
import dev.pgpolicy.proxy.wire.ErrorResponse;
import dev.pgpolicy.proxy.wire.SqlState;
import io.netty.buffer.ByteBufAllocator;
import java.util.Objects;
import java.util.Optional;

/**
 * The {@code rows N per query} limit on one result: counts the DataRows of one statement (one
 * result of a simple Query, or one portal across the Executes that fetch it in batches) and
 * refuses row N+1 and every row after it with 54000 (program_limit_exceeded) naming the rule.
 * Rows it admits pass through {@code inner} (masking, or unchanged). Used on one session's event
 * loop only.
 */
final class RowLimitFilter implements RowFilter {

    private final RowFilter inner;
    private final long limit;
    private final ErrorResponse error;
    private long rows;

    RowLimitFilter(RowFilter inner, EffectiveLimit limit) {
        this.inner = Objects.requireNonNull(inner);
        this.limit = limit.amount();
        this.error = ErrorResponse.of(ErrorResponse.SEVERITY_ERROR, SqlState.PROGRAM_LIMIT_EXCEEDED,
                "pgpolicy: statement returned more than " + limit.amount() + " rows, the limit of rule \""
                        + limit.ruleId() + "\"",
                "the statement was cancelled; fetch fewer rows (LIMIT, a narrower WHERE) or in several statements");
    }

    /** {@code inner} limited by {@code limit}, or {@code inner} itself when no row limit is in force. */
    static RowFilter limit(RowFilter inner, Optional<EffectiveLimit> limit) {
        return limit.isPresent() ? new RowLimitFilter(inner, limit.get()) : inner;
    }

    @Override
    public Optional<ErrorResponse> admit() {
        if (rows >= limit) {
            return Optional.of(error);
        }
        rows++;
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
}
