package dev.pgpolicy.policy;

import dev.pgpolicy.sql.ObjectName;

/**
 * Resolves the names a statement uses to schemas, as PostgreSQL would for the session. The
 * offline commands use {@link SearchPathResolver}; the proxy plugs in its catalog cache.
 * Implementations must not throw; a name they cannot place is {@link ResolvedName#unknown}.
 */
public interface NameResolver {

    ResolvedName relation(ObjectName name);

    ResolvedName function(ObjectName name);
}
