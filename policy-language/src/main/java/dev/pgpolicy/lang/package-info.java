/**
 * Front end of the {@code .pgpolicy} and {@code .pgtest} languages: one ANTLR grammar
 * ({@code PolicyGrammar.g4}), plain AST records with source spans ({@link dev.pgpolicy.lang.Node}),
 * and {@link dev.pgpolicy.lang.PolicyParser}, which never throws and reports syntax errors as
 * {@link dev.pgpolicy.lang.Diagnostic}s.
 *
 * <p>Lexical choices: keywords are lower case; unquoted names in patterns fold to lower case as
 * PostgreSQL folds identifiers, double-quoted names keep their case and match literally; strings
 * know only the escapes {@code \"} and {@code \\} (anything else is an error, so a Windows path
 * cannot silently change meaning); a CIDR with bits set right of its prefix is an error, as it is
 * for PostgreSQL's {@code cidr} type. A statement with a syntax error is left out of the AST and
 * reported once; the rest of the file is still read, so one run shows every mistake.
 *
 * <p>In test files, {@code as} takes {@code user}, {@code groups}, {@code from} (or
 * {@code client_ip}), {@code app} (or {@code application_name}), {@code at} (or {@code time},
 * ISO-8601 with an offset), {@code db_user}, {@code database}, {@code auth}, {@code tls} and
 * {@code cert_cn}; an {@code as} applies to the queries after it until the next one.
 */
package dev.pgpolicy.lang;
