package dev.pgpolicy.proxy.audit;

import java.util.Locale;

/**
 * How much of a statement a record keeps, as set by the policy's audit level: {@code metadata}
 * keeps no SQL text, {@code statements} keeps the normalized text (literals replaced, so values
 * such as card numbers do not reach the log), {@code full} keeps the text as sent and the Bind
 * parameters.
 */
public enum AuditLevel {
    METADATA,
    STATEMENTS,
    FULL;

    /** Computed once: the writer asks for it on every statement record. */
    private final String jsonName = name().toLowerCase(Locale.ROOT);

    public String jsonName() {
        return jsonName;
    }
}
