package dev.pgpolicy.lang;

/** The LIMIT entries of the language, each a separate dimension when limits are combined. */
public enum LimitKind {
    /** {@code queries N per second per user|role|client_ip} */
    QUERIES_PER_SECOND,
    /** {@code concurrent N per user|role} */
    CONCURRENT,
    /** {@code connections N per user|client_ip} */
    CONNECTIONS,
    /** {@code rows N per query} */
    ROWS_PER_QUERY,
    /** {@code statement_timeout D} */
    STATEMENT_TIMEOUT,
    /** {@code idle D} */
    IDLE,
    /** {@code idle_in_transaction D} */
    IDLE_IN_TRANSACTION;

    public boolean isDuration() {
        return this == STATEMENT_TIMEOUT || this == IDLE || this == IDLE_IN_TRANSACTION;
    }
}
