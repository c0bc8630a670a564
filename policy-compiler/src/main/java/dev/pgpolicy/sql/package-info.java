/**
 * SQL analysis: what a statement does, in the terms of the {@code .pgpolicy} language.
 *
 * <p>The pipeline, in {@link dev.pgpolicy.sql.SqlAnalyzer#analyze(String)}:
 * <ol>
 *   <li>{@link dev.pgpolicy.sql.SqlLexer} tokenizes the message the way the server's scanner
 *       does (dollar quotes, {@code E''}, {@code U&''} with UESCAPE, nested comments, identifier
 *       folding and truncation). It never throws; malformed input is marked, and a statement
 *       containing it is unparsed.</li>
 *   <li>{@link dev.pgpolicy.sql.StatementSplitter} cuts statements at top-level semicolons
 *       (not in parentheses or {@code BEGIN ATOMIC} bodies); {@link dev.pgpolicy.sql.StatementClassifier}
 *       gives each its {@link dev.pgpolicy.sql.StatementKind} from its leading key words, so even
 *       an unparsed statement has a kind; {@link dev.pgpolicy.sql.Normalizer} produces the
 *       literal-free text and fingerprint that key the facts cache.</li>
 *   <li>The common OLTP shapes (one table, simple predicates) are read from the tokens on the
 *       calling thread by {@link dev.pgpolicy.sql.SimpleStatementAnalyzer}, which produces
 *       exactly the facts of the parser path below or declines to it.</li>
 *   <li>Other queries and DML are parsed by JSqlParser on a bounded executor under a time budget, from
 *       a neutralised text (constants and comments replaced, PostgreSQL-only syntax rewritten
 *       into syntax naming the same objects), and walked by our own collector; COPY, DDL and
 *       utility statements are read from tokens. Anything not fully understood is unparsed,
 *       never guessed.</li>
 *   <li>Heuristics that depend only on structure are cached with the facts; those that depend
 *       on constants or comments (comment after literal, sensitive settings, untrusted
 *       languages, code inside function and DO bodies) are computed for every message.</li>
 * </ol>
 *
 * <p>Accuracy is checked against PostgreSQL itself: the proxy module's
 * {@code SqlAnalysisAccuracyTest} compares the tables reported for a 400-statement corpus with
 * the relations in the server's own plans.
 */
package dev.pgpolicy.sql;
