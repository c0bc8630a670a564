package dev.pgpolicy.policy;

import java.util.Locale;

/** Types of the session language. */
enum ValueType {
    STRING, INT, BOOL, IP, CIDR, STRING_SET, WEEKDAY, TIMESTAMP;

    String label() {
        return switch (this) {
            case STRING_SET -> "set of strings";
            case CIDR -> "CIDR block";
            case IP -> "IP address";
            default -> name().toLowerCase(Locale.ROOT);
        };
    }

    boolean ordered() {
        return this == INT || this == WEEKDAY || this == TIMESTAMP;
    }
}
