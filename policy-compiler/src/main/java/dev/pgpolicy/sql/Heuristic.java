package dev.pgpolicy.sql;

import java.util.Locale;
import java.util.Optional;

/** The injection and dangerous-operation heuristics of LANGUAGE.md ("HEURISTIC names"). */
public enum Heuristic {
    /** More than one statement in one simple Query message. */
    STACKED_STATEMENTS,
    /** An always-true {@code OR} branch such as {@code OR 1=1} in WHERE, ON or HAVING. */
    TAUTOLOGY,
    /** UNION arms made only of constants or NULLs, or reading the catalog. */
    UNION_PROBE,
    /** A comment right after a string literal, the classic way to cut off the rest of a query. */
    COMMENT_AFTER_LITERAL,
    /** {@code pg_sleep*}. */
    SLEEP,
    /** pg_catalog, information_schema, pg_shadow, version(). */
    CATALOG_PROBE,
    /** pg_read_file, pg_ls_dir, lo_import, COPY to or from a server file. */
    FILE_ACCESS,
    /** COPY ... PROGRAM, untrusted procedural languages. */
    PROGRAM_EXEC,
    /** The SQL parser could not analyse the statement within its budget. */
    UNPARSED;

    public String keyword() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Optional<Heuristic> fromKeyword(String keyword) {
        for (Heuristic heuristic : values()) {
            if (heuristic.keyword().equals(keyword)) {
                return Optional.of(heuristic);
            }
        }
        return Optional.empty();
    }
}
