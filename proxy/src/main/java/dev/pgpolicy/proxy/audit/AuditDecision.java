package dev.pgpolicy.proxy.audit;

/**
 * The outcome recorded for a statement. The {@code would-*} values come from detect mode, where a
 * decision is computed and recorded but not enforced.
 */
public enum AuditDecision {
    ALLOW("allow"),
    DENY("deny"),
    WARN("warn"),
    THROTTLE("throttle"),
    WOULD_DENY("would-deny"),
    WOULD_MASK("would-mask"),
    WOULD_THROTTLE("would-throttle");

    private final String jsonName;

    AuditDecision(String jsonName) {
        this.jsonName = jsonName;
    }

    public String jsonName() {
        return jsonName;
    }
}
