package dev.pgpolicy.proxy.audit;

/**
 * The outcome recorded for a statement. The {@code would-*} values come from detect mode, where a
 * decision is computed and recorded but not enforced. There is no "would throttle": the limits of a
 * detect-mode file are not counted at all (LANGUAGE.md), so no limit is ever found exceeded
 * without being enforced.
 */
public enum AuditDecision {
    ALLOW("allow"),
    DENY("deny"),
    WARN("warn"),
    THROTTLE("throttle"),
    WOULD_DENY("would-deny"),
    WOULD_MASK("would-mask");

    private final String jsonName;

    AuditDecision(String jsonName) {
        this.jsonName = jsonName;
    }

    public String jsonName() {
        return jsonName;
    }
}
