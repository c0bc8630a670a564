package dev.pgpolicy.proxy.audit;

import java.util.Objects;

/**
 * A table a statement touches and what it does to it, as in {@code explain --json}:
 * {@code {"name": "public.customers", "action": "select"}}. The name is schema-qualified as the
 * analysis resolved it.
 */
public record AuditObject(String name, String action) {
    public AuditObject {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(action, "action");
    }
}
