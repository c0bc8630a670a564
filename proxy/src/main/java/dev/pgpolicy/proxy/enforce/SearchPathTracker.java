package dev.pgpolicy.proxy.enforce;

import dev.pgpolicy.policy.NameResolver;
import dev.pgpolicy.policy.ResolvedName;
import dev.pgpolicy.policy.SearchPathResolver;
import dev.pgpolicy.proxy.session.SessionInfo;
import dev.pgpolicy.sql.ObjectName;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The search_path of one session as far as the proxy can know it, for resolving unqualified names
 * (LANGUAGE.md, "RESOURCES"). Sources, strongest first: the server's ParameterStatus (PostgreSQL
 * reports search_path from version 18), a {@code SET [SESSION] search_path} or {@code RESET} the
 * session sent, the StartupMessage ({@code search_path} or {@code -c search_path=} in
 * {@code options}), and PostgreSQL's default {@code "$user", public}.
 *
 * <p>A change the proxy cannot follow ({@code SET LOCAL}, {@code set_config('search_path', ...)},
 * a function's {@code SET} clause it sees only as text) makes the path uncertain for the rest of
 * the session: unqualified names then resolve to {@link ResolvedName#unknown}, which matches every
 * deny it could and no allow that names a schema (fail closed). A {@code SET} rolled back with its
 * transaction is not followed either; that can only make the proxy resolve against a schema the
 * session asked for itself.
 */
final class SearchPathTracker {

    private static final Pattern SET_PATH = Pattern.compile(
            "(?is)\\s*SET\\s+(?:SESSION\\s+)?search_path\\s*(?:TO|=)\\s*(.*?)\\s*;?\\s*");
    private static final Pattern RESET_PATH = Pattern.compile(
            "(?is)\\s*(?:RESET\\s+search_path|SET\\s+(?:SESSION\\s+)?search_path\\s*(?:TO|=)\\s*DEFAULT)\\s*;?\\s*");
    private static final Pattern OPTION_PATH = Pattern.compile("(?:-c\\s*|--)search_path=((?:\\\\.|[^\\s\\\\])*)");
    private static final String PATH_NAME = "search_path";

    static final String DEFAULT_SETTING = "\"$user\", public";

    private volatile String trackedSetting;
    private volatile boolean uncertain;

    /** The setting in force as PostgreSQL would report it; empty when the proxy lost track of it. */
    Optional<String> setting(SessionInfo session) {
        Optional<String> reported = session.serverParameter("search_path");
        if (reported.isPresent()) {
            return reported;
        }
        if (uncertain) {
            return Optional.empty();
        }
        return Optional.of(trackedSetting != null ? trackedSetting : startupSetting(session).orElse(DEFAULT_SETTING));
    }

    /** A key that tells settings apart (the resolution of their names may still differ, see {@link LiveNames}). */
    String cacheKey(SessionInfo session) {
        return setting(session).map(setting -> "path:" + setting).orElse("uncertain");
    }

    /** Follows a statement that is about to run; {@code statementSql} is null when the message had several. */
    void follow(String messageSql, boolean singleStatement) {
        if (messageSql == null || !mentionsPath(messageSql)) {
            return;
        }
        if (!singleStatement) {
            uncertain = true;
            return;
        }
        if (RESET_PATH.matcher(messageSql).matches()) {
            trackedSetting = null;
            return;
        }
        Matcher set = SET_PATH.matcher(messageSql);
        if (set.matches()) {
            Optional<String> setting = settingFromSql(set.group(1));
            if (setting.isPresent()) {
                trackedSetting = setting.get();
                return;
            }
        }
        if (messageSql.strip().toUpperCase(Locale.ROOT).startsWith("SHOW")) {
            return;
        }
        uncertain = true;
    }

    static Optional<String> startupSetting(SessionInfo session) {
        String direct = session.startupParameters().get("search_path");
        if (direct != null) {
            return Optional.of(direct);
        }
        String options = session.startupParameters().get("options");
        if (options == null) {
            return Optional.empty();
        }
        Matcher matcher = OPTION_PATH.matcher(options);
        String value = null;
        while (matcher.find()) {
            value = matcher.group(1).replaceAll("\\\\(.)", "$1"); // the last one wins, as in PostgreSQL
        }
        return Optional.ofNullable(value);
    }

    /**
     * Turns the value list of {@code SET search_path TO ...} into the setting PostgreSQL would
     * report: identifiers as written (quoted ones keep their quotes), string literals become
     * quoted identifiers. Empty when the list is not one the proxy reads with certainty.
     */
    static Optional<String> settingFromSql(String list) {
        List<String> entries = new ArrayList<>();
        int i = 0;
        int n = list.length();
        while (i < n) {
            while (i < n && Character.isWhitespace(list.charAt(i))) {
                i++;
            }
            if (i >= n) {
                return Optional.empty();
            }
            char c = list.charAt(i);
            StringBuilder entry = new StringBuilder();
            if (c == '\'' || c == '"') {
                StringBuilder content = new StringBuilder();
                i++;
                boolean closed = false;
                while (i < n) {
                    char d = list.charAt(i);
                    if (d == c) {
                        if (i + 1 < n && list.charAt(i + 1) == c) {
                            content.append(c);
                            i += 2;
                            continue;
                        }
                        i++;
                        closed = true;
                        break;
                    }
                    content.append(d);
                    i++;
                }
                if (!closed) {
                    return Optional.empty();
                }
                entry.append('"').append(content.toString().replace("\"", "\"\"")).append('"');
            } else {
                while (i < n && (Character.isLetterOrDigit(list.charAt(i)) || list.charAt(i) == '_'
                        || list.charAt(i) == '$')) {
                    entry.append(list.charAt(i));
                    i++;
                }
                if (entry.length() == 0) {
                    return Optional.empty();
                }
            }
            entries.add(entry.toString());
            while (i < n && Character.isWhitespace(list.charAt(i))) {
                i++;
            }
            if (i < n) {
                if (list.charAt(i) != ',') {
                    return Optional.empty();
                }
                i++;
            }
        }
        return entries.isEmpty() ? Optional.empty() : Optional.of(String.join(", ", entries));
    }

    /** Unqualified relation names cannot be placed; catalog names still resolve where PostgreSQL always looks first. */
    static final NameResolver UNCERTAIN = new NameResolver() {
        private final SearchPathResolver catalogOnly = SearchPathResolver.offline(List.of());

        @Override
        public ResolvedName relation(ObjectName name) {
            return name.qualified() || name.name().startsWith("pg_") ? catalogOnly.relation(name)
                    : ResolvedName.unknown(name.name());
        }

        @Override
        public ResolvedName function(ObjectName name) {
            ResolvedName resolved = catalogOnly.function(name);
            return name.qualified() || resolved.isCertain() ? resolved : ResolvedName.unknown(name.name());
        }

        @Override
        public String toString() {
            return "search_path unknown";
        }
    };

    /**
     * Whether the text contains {@code search_path} in any case. Asked of every statement, so a
     * scan for its first letter rather than a regular expression.
     */
    static boolean mentionsPath(String sql) {
        int last = sql.length() - PATH_NAME.length();
        for (int i = 0; i <= last; i++) {
            char c = sql.charAt(i);
            if ((c == 's' || c == 'S') && sql.regionMatches(true, i, PATH_NAME, 0, PATH_NAME.length())) {
                return true;
            }
        }
        return false;
    }
}
