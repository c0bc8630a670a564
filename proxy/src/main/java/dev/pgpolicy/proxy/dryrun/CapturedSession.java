package dev.pgpolicy.proxy.dryrun;

import java.net.InetAddress;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The session attributes an input reveals about the connection a statement ran on. A user of
 * {@link Optional#empty()} means the input does not say (a capture that starts after the
 * StartupMessage); the statement is then evaluated as a session with an empty user name, which can
 * match only rules that do not depend on the user, and reported as {@link #UNKNOWN_USER}.
 *
 * @param groups   groups the input recorded (pgpolicy's audit log does); the dry-run adds those
 *                 its group mapping gives the user
 * @param clientIp null when the input has none (a Unix-socket client)
 */
public record CapturedSession(Optional<String> user, Set<String> groups, String dbUser, String database,
                              String applicationName, InetAddress clientIp) {
    public static final String UNKNOWN_USER = "(unknown)";

    public CapturedSession {
        Objects.requireNonNull(user, "user");
        groups = groups == null ? Set.of() : Set.copyOf(groups);
        dbUser = Objects.requireNonNullElse(dbUser, "");
        database = Objects.requireNonNullElse(database, "");
        applicationName = Objects.requireNonNullElse(applicationName, "");
    }

    public static CapturedSession of(Optional<String> user, String database, String applicationName, InetAddress clientIp) {
        return new CapturedSession(user, Set.of(), "", database, applicationName, clientIp);
    }

    public static CapturedSession unknown(InetAddress clientIp) {
        return of(Optional.empty(), "", "", clientIp);
    }

    public String displayUser() {
        return user.orElse(UNKNOWN_USER);
    }
}
