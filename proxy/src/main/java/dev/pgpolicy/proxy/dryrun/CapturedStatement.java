package dev.pgpolicy.proxy.dryrun;

import java.time.Instant;
import java.util.Objects;

/**
 * One SQL text the server was asked to run, as an input recorded it: the text of a simple Query
 * message (possibly several statements), or the prepared text of one executed portal.
 *
 * @param time when it ran, as the input recorded it; policies reading {@code hour} or
 *             {@code weekday} are evaluated at this moment
 */
public record CapturedStatement(CapturedSession session, String sql, Instant time) {
    public CapturedStatement {
        Objects.requireNonNull(session, "session");
        Objects.requireNonNull(sql, "sql");
        Objects.requireNonNull(time, "time");
    }
}
