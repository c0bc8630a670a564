package dev.pgpolicy.proxy.admin;

import dev.pgpolicy.proxy.audit.AuditLog;
import dev.pgpolicy.proxy.session.ClientSession;
import java.util.Collection;
import java.util.Objects;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * What the admin endpoint reads and acts on; the proxy server provides it.
 *
 * @param sessions the sessions open now
 * @param metrics the proxy's metrics
 * @param listening whether the proxy still accepts clients
 * @param audit the audit log, when one is configured
 * @param policy the live policy set, when one is configured
 */
public record AdminSources(
        Supplier<Collection<ClientSession>> sessions,
        ProxyMetrics metrics,
        BooleanSupplier listening,
        Optional<AuditLog> audit,
        Optional<PolicyControl> policy) {

    public AdminSources {
        Objects.requireNonNull(sessions, "sessions");
        Objects.requireNonNull(metrics, "metrics");
        Objects.requireNonNull(listening, "listening");
        Objects.requireNonNull(audit, "audit");
        Objects.requireNonNull(policy, "policy");
    }
}
