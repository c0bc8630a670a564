package dev.pgpolicy.policy;

import java.util.Locale;
import java.util.Optional;

/**
 * Who shares a counter: each user, each client address, or everyone the limit rule's principal
 * covers ({@code role}; the proxy keys that counter by the rule id). {@code NONE} for limits
 * without a {@code per} (rows per query, timeouts).
 */
public enum LimitScope {
    NONE, USER, ROLE, CLIENT_IP;

    public String keyword() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Optional<LimitScope> fromKeyword(String keyword) {
        for (LimitScope scope : values()) {
            if (scope != NONE && scope.keyword().equals(keyword)) {
                return Optional.of(scope);
            }
        }
        return Optional.empty();
    }
}
