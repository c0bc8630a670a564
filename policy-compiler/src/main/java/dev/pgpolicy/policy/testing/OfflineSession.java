package dev.pgpolicy.policy.testing;

import dev.pgpolicy.lang.SessionSpec;
import dev.pgpolicy.policy.SearchPathResolver;
import dev.pgpolicy.policy.SessionContext;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashSet;
import java.util.List;

/**
 * A session for the offline commands ({@code test}, {@code explain}), built from an {@code as}
 * clause or an {@code --as} option. Attributes left out are empty, as LANGUAGE.md specifies for
 * tests: no groups, no application name, no TLS, client address 127.0.0.1, time now. Names
 * resolve with the given search path; the {@code "$user"} schema is assumed not to exist.
 */
public record OfflineSession(SessionContext context, List<String> searchPath, SearchPathResolver resolver) {

    public static final List<String> DEFAULT_SEARCH_PATH = SearchPathResolver.DEFAULT_SEARCH_PATH;

    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    public OfflineSession {
        searchPath = List.copyOf(searchPath);
    }

    public static OfflineSession of(SessionSpec spec, List<String> searchPath, Clock clock) {
        List<String> path = searchPath == null || searchPath.isEmpty() ? DEFAULT_SEARCH_PATH : searchPath;
        Instant time = spec.time() != null ? spec.time() : clock.instant();
        InetAddress clientIp = spec.clientIp() != null ? spec.clientIp() : loopbackV4();
        SessionContext context = new SessionContext(
                spec.user(),
                new HashSet<>(spec.groups()),
                spec.dbUser(),
                spec.database(),
                spec.applicationName(),
                clientIp,
                spec.auth(),
                spec.tls() != null && spec.tls(),
                spec.certCn(),
                time,
                ZoneOffset.UTC);
        return new OfflineSession(context, path, SearchPathResolver.offline(path));
    }

    private static InetAddress loopbackV4() {
        byte[] address = {127, 0, 0, 1};
        try {
            return InetAddress.getByAddress(address);
        } catch (java.net.UnknownHostException impossible) {
            // getByAddress only throws for a wrong array length.
            return LOOPBACK;
        }
    }
}
