package dev.pgpolicy.proxy.session;

import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Which of a client's {@linkplain PoolKey#SETTABLE settable} startup parameters a pooled backend
 * must be given on a lease, so that a client connecting per transaction with the same parameters
 * as the last one costs no {@code set_config} round trip, as PgBouncer skips its SET when the
 * server connection already has the client's values.
 *
 * <pre>
 *   login ─► defaults := the settable values the server reports (role and database defaults)
 *   lease ─► for each setting the client asks for: set it unless the server reports exactly that value
 *         ─► for each reported setting it does not ask for: reset it unless it is at its default
 *   release ─► reset query (DISCARD ALL: every setting back to its default)
 *           ─► the last client's reported settings applied again, pipelined with the reset, so the
 *              next client with the same values finds them in place
 * </pre>
 *
 * <p>Only what the server reports with ParameterStatus (GUC_REPORT: application_name,
 * client_encoding, DateStyle, TimeZone, IntervalStyle, standard_conforming_strings,
 * default_transaction_read_only, ...) is known and may be skipped; a setting the server does not
 * report ({@code search_path} before PostgreSQL 18, {@code statement_timeout}) is set on every
 * lease that asks for it and is never applied again after the reset, so it cannot outlive its
 * session unseen. Values are compared exactly: {@code DateStyle=ISO} is set each time, since the
 * server reports {@code ISO, MDY}. Parameter names are compared without case, as PostgreSQL does.
 * Touched only on the backend's event loop.
 */
final class BackendSettings {

    /** What RESET ALL returns the reported settable parameters to, by lower-case name: fixed at backend start. */
    private final Map<String, String> defaults = new HashMap<>();
    /** The last session's settings that the server reports, to apply again after the reset, in the client's order. */
    private Map<String, String> kept = Map.of();

    /** The backend's first ReadyForQuery: {@code reported} holds the role's and database's defaults. */
    void loggedIn(Map<String, String> reported) {
        reported.forEach((name, value) -> {
            String lower = name.toLowerCase(Locale.ROOT);
            if (PoolKey.SETTABLE.contains(lower)) {
                defaults.put(lower, value);
            }
        });
    }

    /**
     * What the backend needs to hold exactly the defaults overlaid with {@code requested}: the
     * requested settings whose reported value differs (or is unknown), and null (reset) for each
     * reported setting off its default that the client does not ask for. When one name appears
     * twice in different case, the last wins, as in a StartupMessage.
     */
    Map<String, String> changesFor(Map<String, String> reported, Map<String, String> requested) {
        Map<String, String> current = lowerCaseKeys(reported);
        Map<String, Map.Entry<String, String>> wanted = new LinkedHashMap<>();
        requested.forEach((name, value) -> wanted.put(name.toLowerCase(Locale.ROOT), Map.entry(name, value)));
        Map<String, String> changes = new LinkedHashMap<>();
        wanted.forEach((lower, setting) -> {
            if (!setting.getValue().equals(current.get(lower))) {
                changes.put(setting.getKey(), setting.getValue());
            }
        });
        defaults.forEach((lower, value) -> {
            if (!wanted.containsKey(lower) && current.containsKey(lower) && !value.equals(current.get(lower))) {
                changes.put(lower, null);
            }
        });
        return changes;
    }

    /** A session got the backend with {@code requested} in effect: the reported ones are kept across the reset. */
    void leased(Map<String, String> reported, Map<String, String> requested) {
        Map<String, String> current = lowerCaseKeys(reported);
        Map<String, String> reportedOnly = new LinkedHashMap<>();
        requested.forEach((name, value) -> {
            if (current.containsKey(name.toLowerCase(Locale.ROOT))) {
                reportedOnly.put(name, value);
            }
        });
        kept = Collections.unmodifiableMap(reportedOnly);
    }

    /** The settings to apply again right after the reset query. */
    Map<String, String> kept() {
        return kept;
    }

    private static Map<String, String> lowerCaseKeys(Map<String, String> parameters) {
        Map<String, String> lower = new HashMap<>();
        parameters.forEach((name, value) -> lower.put(name.toLowerCase(Locale.ROOT), Objects.requireNonNull(value)));
        return lower;
    }
}
