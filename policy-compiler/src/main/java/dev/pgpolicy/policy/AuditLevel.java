package dev.pgpolicy.policy;

import java.util.Locale;
import java.util.Optional;

/** Audit levels in increasing order of detail (LANGUAGE.md, "LEVEL"); the highest matching wins. */
public enum AuditLevel {
    NONE, CONNECTIONS, METADATA, STATEMENTS, FULL;

    public String keyword() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Optional<AuditLevel> fromKeyword(String keyword) {
        for (AuditLevel level : values()) {
            if (level.keyword().equals(keyword)) {
                return Optional.of(level);
            }
        }
        return Optional.empty();
    }

    public AuditLevel atLeast(AuditLevel other) {
        return compareTo(other) >= 0 ? this : other;
    }
}
