package dev.pgpolicy.proxy.enforce;

import dev.pgpolicy.proxy.audit.AuditConnection;
import dev.pgpolicy.proxy.session.SessionInfo;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Objects;

/**
 * The {@link AuditConnection} of one session, built once and built again only when a field it
 * shows has changed: {@code application_name} (a {@code SET} reported by the server's
 * ParameterStatus), the user, groups and upstream role (known once authentication completes).
 * Every statement record of the session names its connection; building it per record meant an
 * object, a list copy and an {@code InetAddress.getHostAddress()} per statement on the event
 * loop, and made the audit writer hash and compare the whole connection to find its rendered text.
 *
 * <p>Each call compares the session's current values with those the held connection was built
 * from ({@code String.equals} and {@code List.equals} answer at once for the same instance, which
 * is what a session hands out until a value changes), so a record never shows a stale field.
 * Safe from any thread: the held state is one immutable snapshot; two threads that both see it
 * stale both build a new one, and either is right.
 */
final class SessionConnection {

    private volatile Snapshot current;

    /** What the held connection was built from, and the connection. */
    private record Snapshot(InetSocketAddress client, String user, List<String> groups, String dbUser,
            String database, String applicationName, boolean tls, AuditConnection connection) {
    }

    AuditConnection of(SessionInfo session) {
        Snapshot held = current;
        InetSocketAddress client = session.clientAddress();
        String user = session.user().orElse("");
        List<String> groups = session.groups();
        String dbUser = session.dbUser().orElse(null);
        String database = session.database().orElse(user);
        String applicationName = session.applicationName().orElse(null);
        boolean tls = session.tls();
        if (held != null && (held.client == client || Objects.equals(held.client, client)) && held.tls == tls && held.user.equals(user)
                && held.groups.equals(groups) && Objects.equals(held.dbUser, dbUser)
                && held.database.equals(database) && Objects.equals(held.applicationName, applicationName)) {
            return held.connection;
        }
        AuditConnection built = build(client, user, groups, dbUser, database, applicationName, tls);
        current = new Snapshot(client, user, groups, dbUser, database, applicationName, tls, built);
        return built;
    }

    /** A connection built from the session's values as they are now, without keeping it. */
    static AuditConnection now(SessionInfo session) {
        String user = session.user().orElse("");
        return build(session.clientAddress(), user, session.groups(), session.dbUser().orElse(null),
                session.database().orElse(user), session.applicationName().orElse(null), session.tls());
    }

    private static AuditConnection build(InetSocketAddress client, String user, List<String> groups, String dbUser,
            String database, String applicationName, boolean tls) {
        return new AuditConnection(user, groups, dbUser, database, applicationName,
                client == null || client.getAddress() == null ? "unknown" : client.getAddress().getHostAddress(),
                client == null ? 0 : client.getPort(), tls);
    }
}
