package dev.pgpolicy.sql;

/** Where in a statement a column is used. */
public enum Clause {
    /** The select list, or a column list of COPY. */
    PROJECTION,
    /** WHERE, JOIN ON, HAVING, ORDER BY, GROUP BY: the clauses that become {@code filter} requests. */
    FILTER,
    /** The target of SET in UPDATE, the column list of INSERT, ON CONFLICT DO UPDATE SET. */
    ASSIGNMENT,
    /** RETURNING. */
    RETURNING
}
