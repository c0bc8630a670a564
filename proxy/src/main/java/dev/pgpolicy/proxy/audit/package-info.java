/**
 * The tamper-evident audit log (DESIGN.md, "Audit"; format and verification rules in
 * docs/audit.md).
 *
 * <p>A session builds its {@link dev.pgpolicy.proxy.audit.AuditConnection} once it knows who is
 * connected, then hands records to the one shared {@link dev.pgpolicy.proxy.audit.AuditLog}:
 * <pre>{@code
 * AuditConnection who = new AuditConnection(user, groups, dbUser, database, applicationName,
 *         clientIp, clientPort, tls);
 * audit.append(AuditRecord.connectionOpened(Instant.now(), sessionId, who, revision));
 * AuditStatement decided = AuditStatement.builder(level, kind, AuditDecision.DENY)
 *         .object("public.customers", "select").fingerprint(fingerprint)
 *         .sql(sqlAsSent, normalizedSql).rules(ruleIds).reason(reason).build();
 * if (!audit.append(AuditRecord.statement(Instant.now(), sessionId, who, decided, revision))
 *         && audit.failClosed()) {
 *     // refuse the statement: the record cannot be written
 * }
 * }</pre>
 * Records carry plain strings and lists, so this package depends on nothing else in the proxy or
 * the policy modules. {@code append} never blocks; with {@code audit.fail_closed} a session checks
 * {@link dev.pgpolicy.proxy.audit.AuditLog#healthy()} before forwarding a statement, or waits for
 * {@link dev.pgpolicy.proxy.audit.AuditLog#appendConfirmed} when the statement may only run once
 * its record is on disk.
 */
package dev.pgpolicy.proxy.audit;
