package dev.pgpolicy.policy;

import java.net.InetAddress;
import java.time.DayOfWeek;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Objects;
import java.util.Set;

/**
 * The session attributes policies read (LANGUAGE.md, "EXPR"). Strings that the session does not
 * have are empty; {@code clientIp} and {@code certCn} may be null (a Unix-socket client, no
 * certificate), and a condition that reads a null attribute is an evaluation error, which a
 * {@code deny} treats as a match and an {@code allow} as no match.
 *
 * @param time the moment of evaluation; {@code hour} and {@code weekday} derive from it in
 *             {@code zone} (UTC unless configured)
 */
public record SessionContext(
        String user,
        Set<String> groups,
        String dbUser,
        String database,
        String applicationName,
        InetAddress clientIp,
        String auth,
        boolean tls,
        String certCn,
        Instant time,
        ZoneId zone) {

    public SessionContext {
        user = Objects.requireNonNullElse(user, "");
        groups = groups == null ? Set.of() : Set.copyOf(groups);
        dbUser = Objects.requireNonNullElse(dbUser, "");
        database = Objects.requireNonNullElse(database, "");
        applicationName = Objects.requireNonNullElse(applicationName, "");
        auth = Objects.requireNonNullElse(auth, "");
        Objects.requireNonNull(time, "time");
        zone = zone == null ? ZoneOffset.UTC : zone;
    }

    /** A session with only a user name, at {@code time}, in UTC; the other attributes are empty. */
    public static SessionContext of(String user, Instant time) {
        return new SessionContext(user, Set.of(), "", "", "", null, "", false, null, time, ZoneOffset.UTC);
    }

    public SessionContext withGroups(Set<String> newGroups) {
        return new SessionContext(user, newGroups, dbUser, database, applicationName, clientIp, auth, tls, certCn, time, zone);
    }

    public SessionContext withClientIp(InetAddress address) {
        return new SessionContext(user, groups, dbUser, database, applicationName, address, auth, tls, certCn, time, zone);
    }

    public SessionContext withTime(Instant newTime) {
        return new SessionContext(user, groups, dbUser, database, applicationName, clientIp, auth, tls, certCn, newTime, zone);
    }

    public SessionContext withDatabase(String newDatabase) {
        return new SessionContext(user, groups, dbUser, newDatabase, applicationName, clientIp, auth, tls, certCn, time, zone);
    }

    public SessionContext withAuth(String newAuth, boolean newTls, String newCertCn) {
        return new SessionContext(user, groups, dbUser, database, applicationName, clientIp, newAuth, newTls, newCertCn, time, zone);
    }

    public SessionContext withApplicationName(String name) {
        return new SessionContext(user, groups, dbUser, database, name, clientIp, auth, tls, certCn, time, zone);
    }

    public SessionContext withDbUser(String name) {
        return new SessionContext(user, groups, name, database, applicationName, clientIp, auth, tls, certCn, time, zone);
    }

    public int hour() {
        return time.atZone(zone).getHour();
    }

    public DayOfWeek weekday() {
        return time.atZone(zone).getDayOfWeek();
    }
}
