package dev.pgpolicy.proxy.session;

import dev.pgpolicy.proxy.identity.UpstreamAccount;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * Which pooled server connections a session may use: those logged in as the same service account
 * (its password included, so a changed password never reaches a backend opened with the old one),
 * on the same database, started with the same startup parameters other than the {@linkplain
 * #SETTABLE settable} ones. Those others ({@code options}, custom {@code x.y} settings, anything
 * PostgreSQL may accept only at start) can change the backend for its whole life, so they are
 * sent in the StartupMessage and separate the pools.
 *
 * @param startupOptions the StartupMessage parameters besides {@code user} and {@code database}, by name
 */
public record PoolKey(UpstreamAccount account, String database, Map<String, String> startupOptions) {

    /**
     * Startup parameters the proxy applies with {@code set_config} on each lease instead of sending
     * them at start: user-settable (PGC_USERSET), restored by {@code DISCARD ALL}, and the ones
     * drivers send (libpq, pgjdbc, npgsql). A backend opened without them returns, after the reset,
     * to the server's defaults for the role and database, so any client can take it and set its own;
     * had they been in the StartupMessage, the reset would bring back the first client's values.
     * Lower case: PostgreSQL's parameter names are case-insensitive.
     */
    static final Set<String> SETTABLE = Set.of("application_name", "client_encoding", "datestyle", "timezone",
            "intervalstyle", "extra_float_digits", "search_path", "standard_conforming_strings", "bytea_output",
            "statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout",
            "default_transaction_isolation", "default_transaction_read_only", "default_transaction_deferrable");

    public PoolKey {
        Objects.requireNonNull(account, "account");
        Objects.requireNonNull(database, "database");
        startupOptions = Collections.unmodifiableMap(new TreeMap<>(startupOptions));
    }

    /** A session's request: its key, and the settings to apply to whichever backend it gets, in the client's order. */
    record Request(PoolKey key, Map<String, String> settings) {
        Request {
            Objects.requireNonNull(key, "key");
            settings = Collections.unmodifiableMap(new LinkedHashMap<>(settings));
        }
    }

    /** Splits the client's startup parameters ({@code user} and {@code database} are the key's own) into key and settings. */
    static Request request(UpstreamAccount account, String database, Map<String, String> startupParameters) {
        Map<String, String> options = new TreeMap<>();
        Map<String, String> settings = new LinkedHashMap<>();
        startupParameters.forEach((name, value) -> {
            if (name.equals("user") || name.equals("database")) {
                return;
            }
            if (SETTABLE.contains(name.toLowerCase(Locale.ROOT))) {
                settings.put(name, value);
            } else {
                options.put(name, value);
            }
        });
        return new Request(new PoolKey(account, database, options), settings);
    }

    /** The StartupMessage parameters of a new backend for this key. */
    Map<String, String> startupParameters() {
        Map<String, String> parameters = new LinkedHashMap<>();
        parameters.put("user", account.user());
        parameters.put("database", database);
        parameters.putAll(startupOptions);
        return parameters;
    }

    /** For logs: the account's name and role, never its password. */
    @Override
    public String toString() {
        return "PoolKey[account=" + account.name() + ", user=" + account.user() + ", database=" + database
                + (startupOptions.isEmpty() ? "" : ", options=" + startupOptions.keySet()) + "]";
    }
}
