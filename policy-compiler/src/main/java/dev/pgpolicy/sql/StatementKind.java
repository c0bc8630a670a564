package dev.pgpolicy.sql;

/**
 * The kind of one SQL statement, classified by the lexer from its leading keywords even when the
 * full parser fails. Audit records and {@code explain} print {@link #name()} in lower case.
 */
public enum StatementKind {
    SELECT, INSERT, UPDATE, DELETE, MERGE, TRUNCATE, COPY, VALUES,
    DDL, DCL, CALL, DO, SET, SHOW, RESET, TRANSACTION, LISTEN, NOTIFY, UNLISTEN,
    MAINTENANCE, ALTER_SYSTEM, LOAD, DISCARD, EXPLAIN, LOCK, PREPARE, EXECUTE, DEALLOCATE,
    FETCH, CLOSE_CURSOR, DECLARE_CURSOR, CHECKPOINT,
    /** A Query message with no statement in it (only whitespace, comments or semicolons). */
    EMPTY,
    /** Leading keywords the lexer does not recognise. */
    UNKNOWN
}
