package dev.pgpolicy.proxy.dryrun;

import java.net.InetAddress;
import java.util.Objects;
import java.util.Optional;

/**
 * The session attributes an input reveals about the connection a statement ran on. A user of
 * {@link Optional#empty()} means the input does not say (a capture that starts after the
 * StartupMessage); the statement is then evaluated as a session with an empty user name, which can
 * match only rules that do not depend on the user, and reported as {@link #UNKNOWN_USER}.
 */
public record CapturedSession(Optional<String> user, String database, String applicationName, InetAddress clientIp) {
    public static final String UNKNOWN_USER = "(unknown)";

    public CapturedSession {
        Objects.requireNonNull(user, "user");
        database = Objects.requireNonNullElse(database, "");
        applicationName = Objects.requireNonNullElse(applicationName, "");
    }

    public static CapturedSession unknown(InetAddress clientIp) {
        return new CapturedSession(Optional.empty(), "", "", clientIp);
    }

    public String displayUser() {
        return user.orElse(UNKNOWN_USER);
    }
}
