package dev.pgpolicy.sql;

import java.util.Objects;

/** One table (or view) a statement touches, and what it does to it. */
public record TableAccess(ObjectName table, Action action) {
    public TableAccess {
        Objects.requireNonNull(table, "table");
        Objects.requireNonNull(action, "action");
    }
}
