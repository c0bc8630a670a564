package dev.pgpolicy.proxy.audit;

import java.util.List;
import java.util.Objects;

/**
 * Who is connected, as the session knows it; repeated on every record of the session so that
 * each line can be read alone. Before authentication {@code user} is the name the client claimed
 * in its StartupMessage. Nullable components are those a session may not know yet.
 *
 * @param user the authenticated (or, before authentication, claimed) user
 * @param groups the user's groups, empty when none or not known
 * @param dbUser the role the proxy logs in as upstream, null when not known yet
 * @param database the database named in the StartupMessage
 * @param applicationName the {@code application_name} startup parameter, null when absent
 * @param clientAddress the client's IP address in text form
 * @param clientPort the client's TCP port
 * @param tls whether the client connection is encrypted
 */
public record AuditConnection(
        String user,
        List<String> groups,
        String dbUser,
        String database,
        String applicationName,
        String clientAddress,
        int clientPort,
        boolean tls) {

    public AuditConnection {
        Objects.requireNonNull(user, "user");
        groups = List.copyOf(groups);
        Objects.requireNonNull(database, "database");
        Objects.requireNonNull(clientAddress, "clientAddress");
        if (clientPort < 0 || clientPort > 65_535) {
            throw new IllegalArgumentException("client port out of range: " + clientPort);
        }
    }
}
