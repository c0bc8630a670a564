package dev.pgpolicy.proxy.audit;

import java.io.IOException;

/** A record was not written: the log refused it (queue full, closed, failed) or the write failed. */
public final class AuditUnavailableException extends IOException {
    private static final long serialVersionUID = 1L;

    public AuditUnavailableException(String message) {
        super(message);
    }

    public AuditUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
