package dev.pgpolicy.proxy.audit;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * One audit record as a session hands it to {@link AuditLog#append}. The log adds the chain
 * fields ({@code seq}, {@code prev}, {@code hash}) when it writes the line; docs/audit.md lists the
 * JSON fields per event. Build records with the factories, which check what each event needs.
 *
 * @param time when the event happened; written in UTC with microseconds
 * @param event what happened; never {@link AuditEvent#LOG_START}, which only the log writes
 * @param sessionId the proxy's id for the client session
 * @param connection who is connected
 * @param authMethod for {@code auth}: the method used ({@code scram-sha-256}, {@code cert}, ...)
 * @param authSucceeded for {@code auth}: whether authentication succeeded
 * @param statement for {@code statement}: the decision
 * @param duration for {@code connection_close}: how long the connection lasted
 * @param reason for {@code auth} and {@code connection_close}: why it failed or ended, or null
 * @param policyRevision the revision of the policy set in force, null when relaying without policy
 */
public record AuditRecord(
        Instant time,
        AuditEvent event,
        String sessionId,
        AuditConnection connection,
        String authMethod,
        Boolean authSucceeded,
        AuditStatement statement,
        Duration duration,
        String reason,
        String policyRevision) {

    public AuditRecord {
        Objects.requireNonNull(time, "time");
        Objects.requireNonNull(event, "event");
        Objects.requireNonNull(sessionId, "sessionId");
        Objects.requireNonNull(connection, "connection");
        switch (event) {
            case CONNECTION_OPEN -> { }
            case AUTH -> {
                Objects.requireNonNull(authMethod, "authMethod");
                Objects.requireNonNull(authSucceeded, "authSucceeded");
            }
            case CONNECTION_CLOSE -> Objects.requireNonNull(duration, "duration");
            case STATEMENT -> Objects.requireNonNull(statement, "statement");
            case LOG_START -> throw new IllegalArgumentException("log_start records are written by the log itself");
        }
        if (event != AuditEvent.STATEMENT && statement != null) {
            throw new IllegalArgumentException("only statement records carry a statement");
        }
    }

    public static AuditRecord connectionOpened(
            Instant time, String sessionId, AuditConnection connection, String policyRevision) {
        return new AuditRecord(time, AuditEvent.CONNECTION_OPEN, sessionId, connection, null, null, null,
                null, null, policyRevision);
    }

    public static AuditRecord authenticated(Instant time, String sessionId, AuditConnection connection,
            String method, boolean succeeded, String reason, String policyRevision) {
        return new AuditRecord(time, AuditEvent.AUTH, sessionId, connection, method, succeeded, null, null,
                reason, policyRevision);
    }

    public static AuditRecord connectionClosed(Instant time, String sessionId, AuditConnection connection,
            Duration connected, String reason, String policyRevision) {
        return new AuditRecord(time, AuditEvent.CONNECTION_CLOSE, sessionId, connection, null, null, null,
                connected, reason, policyRevision);
    }

    public static AuditRecord statement(Instant time, String sessionId, AuditConnection connection,
            AuditStatement statement, String policyRevision) {
        return new AuditRecord(time, AuditEvent.STATEMENT, sessionId, connection, null, null, statement,
                null, null, policyRevision);
    }
}
