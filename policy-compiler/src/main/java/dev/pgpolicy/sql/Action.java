package dev.pgpolicy.sql;

import java.util.Locale;
import java.util.Optional;

/**
 * What a statement does to an object, named as the {@code .pgpolicy} language names actions
 * (LANGUAGE.md, "ACTIONS"). The groups {@code read}, {@code write}, {@code session} and
 * {@code all} are policy-language shorthands and are expanded by the compiler, so they are not
 * values here.
 */
public enum Action {
    SELECT, INSERT, UPDATE, DELETE, MERGE, TRUNCATE,
    COPY_IN, COPY_OUT, COPY_PROGRAM,
    DDL, DCL, CALL, DO, SET, TRANSACTION, LISTEN, NOTIFY, MAINTENANCE, ALTER_SYSTEM, LOAD,
    DISCARD, EXPLAIN, LOCK, PREPARE, SHOW,
    /** A column read in WHERE, JOIN ON, HAVING, ORDER BY or GROUP BY. */
    FILTER,
    /** A statement the analyser could not parse within its budget. */
    UNPARSED;

    /** The spelling used in policy files and in audit records. */
    public String keyword() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Optional<Action> fromKeyword(String keyword) {
        for (Action action : values()) {
            if (action.keyword().equals(keyword)) {
                return Optional.of(action);
            }
        }
        return Optional.empty();
    }
}
