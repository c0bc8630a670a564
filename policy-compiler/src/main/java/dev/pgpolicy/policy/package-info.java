/**
 * The policy engine: compiles {@code .pgpolicy} sets ({@link dev.pgpolicy.policy.PolicyCompiler})
 * and decides SQL messages against them ({@link dev.pgpolicy.policy.PolicySet}).
 *
 * <h2>Evaluation</h2>
 * {@link dev.pgpolicy.policy.PolicySet#principalClass} evaluates every rule's principal and
 * conditions for a session once (three-valued: an evaluation error is resolved per rule kind,
 * a {@code deny}, mask, guard, limit or audit rule then applies, an {@code allow} does not).
 * Deciding a message then turns each statement's facts into requests and looks each request up
 * in an index keyed by action and literal object name. Decisions depend only on (revision,
 * principal class, search path, statement), the key under which the proxy caches them.
 *
 * <h2>Choices where LANGUAGE.md is silent</h2>
 * <ul>
 * <li>In a resource list a kind word applies until the next one:
 *     {@code on function pg_read_file, pg_ls_dir} names two functions. The first pattern without a
 *     kind word is a table.</li>
 * <li>A pattern without a schema, or with schema {@code *}, matches the object in any schema and
 *     so does not "depend on its schema": it applies even when a name's schema is uncertain.</li>
 * <li>An allow on a table covers its columns. Column-level allows cover a table request only when
 *     the statement names at least one column of that table and they cover every one of them;
 *     {@code SELECT *} needs a table-level allow. Each column a table action uses is a deny-only
 *     request, so {@code deny ... on column t.c} meets any use of the column; a table pattern
 *     also matches the table's columns.</li>
 * <li>A statement with no request at all ({@code SELECT 1}) is allowed.</li>
 * <li>Statement kinds map to actions as in {@code Requests}: {@code SET ROLE},
 *     {@code SET SESSION AUTHORIZATION} and their {@code RESET} are {@code dcl}; {@code SET
 *     TRANSACTION} is {@code transaction}; {@code PREPARE}, {@code EXECUTE}, {@code DEALLOCATE},
 *     {@code DECLARE}, {@code FETCH} and {@code CLOSE} are {@code prepare} (their query is decided
 *     when prepared or declared); {@code CHECKPOINT} is {@code maintenance}; {@code UNLISTEN} is
 *     {@code listen}; a kind the lexer does not know is {@code unparsed}.</li>
 * <li>An unparsed statement needs an allow for {@code unparsed}; its kind's action and the objects
 *     the lexer saw are deny-only requests. With no {@code unparsed} guard matching the principal,
 *     the guard's action is {@code deny} (DESIGN.md: deny by default).</li>
 * <li>Detect mode: detect-mode denies, guards and masks are recorded
 *     ({@link dev.pgpolicy.policy.Decision#wouldDeny}, {@code detectRuleIds}) and not enforced;
 *     limit rules of a detect-mode file do not limit; audit rules always apply; detect-mode allows
 *     count. The default deny is enforced unless every file of the set is in detect mode.
 *     {@code @mode(enforce)} on a rule overrides its file's {@code mode detect}.</li>
 * <li>When several masks apply to a column, the most restrictive wins: {@code null} over
 *     {@code redact} over {@code hash} over {@code regex} over {@code partial} over {@code email},
 *     then the earlier rule. A masked column used inside a select-list expression denies the
 *     statement with the mask rule's id.</li>
 * <li>{@code hour between 22 and 6} and {@code weekday between fri and mon} wrap around.
 *     {@code matches} searches (anchor with {@code ^...$}) within a step budget; exceeding it is
 *     an evaluation error. Reading an attribute the session lacks (no client address, no
 *     certificate) is an evaluation error.</li>
 * <li>With no audit rule the level is {@code none}; a denied or would-be-denied statement is
 *     audited at least at {@code statements}. {@code per role} limit counters are shared by every
 *     session the limit rule applies to and keyed by its rule id.</li>
 * <li>Unqualified names resolve in {@code pg_catalog} first when they start with {@code pg_} or are
 *     well-known built-in functions ({@link dev.pgpolicy.policy.SearchPathResolver}); otherwise
 *     against the search path without {@code "$user"}; several possible schemas make the name
 *     uncertain.</li>
 * </ul>
 */
package dev.pgpolicy.policy;
