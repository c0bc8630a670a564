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

    public String jsonName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
