package dev.pgpolicy.lang;

import java.net.InetAddress;
import java.time.Instant;
import java.util.List;

/**
 * The session of a test case, from {@code as user "ana" groups ("bi") from 10.1.2.3 app "x"
 * at "2026-03-04T10:00:00Z"} (also {@code db_user}, {@code database}, {@code auth}, {@code tls},
 * {@code cert_cn}). Attributes left out are null here, or empty for {@code groups}; the test
 * runner applies the documented defaults (address 127.0.0.1, time now).
 */
public record SessionSpec(
        String user,
        List<String> groups,
        InetAddress clientIp,
        String applicationName,
        Instant time,
        String dbUser,
        String database,
        String auth,
        Boolean tls,
        String certCn,
        Span span) implements Node {
    public SessionSpec {
        groups = List.copyOf(groups);
    }

    public static SessionSpec empty(Span span) {
        return new SessionSpec(null, List.of(), null, null, null, null, null, null, null, null, span);
    }
}
