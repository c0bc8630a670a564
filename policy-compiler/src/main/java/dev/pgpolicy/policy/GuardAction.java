package dev.pgpolicy.policy;

import java.util.Locale;
import java.util.Optional;

/** What a guard does when its heuristic fires, in increasing strength; the strongest matching wins. */
public enum GuardAction {
    OFF, WARN, DENY;

    public String keyword() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Optional<GuardAction> fromKeyword(String keyword) {
        for (GuardAction action : values()) {
            if (action.keyword().equals(keyword)) {
                return Optional.of(action);
            }
        }
        return Optional.empty();
    }
}
