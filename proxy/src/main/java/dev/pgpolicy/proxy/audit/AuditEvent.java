package dev.pgpolicy.proxy.audit;

/** What an audit record is about; {@link #jsonName()} is the {@code event} field of the line. */
public enum AuditEvent {
    /** A client connected; the user is the one named in the StartupMessage, not yet proven. */
    CONNECTION_OPEN("connection_open"),
    /** Authentication finished, successfully or not. */
    AUTH("auth"),
    /** The client connection ended. */
    CONNECTION_CLOSE("connection_close"),
    /** A statement was decided (and, when allowed, executed). */
    STATEMENT("statement"),
    /**
     * Written by the log itself as the first record of every file: how this file continues the
     * chain (new log, rotation, restart, recovery after a crash or a write error).
     */
    LOG_START("log_start");

    private final String jsonName;

    AuditEvent(String jsonName) {
        this.jsonName = jsonName;
    }

    public String jsonName() {
        return jsonName;
    }
}
