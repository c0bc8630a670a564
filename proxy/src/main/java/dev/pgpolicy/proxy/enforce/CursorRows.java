package dev.pgpolicy.proxy.enforce;

import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Rows one session fetched from each SQL cursor ({@code DECLARE c CURSOR FOR ...; FETCH 100 FROM
 * c}, which is how psql's FETCH_COUNT reads a result): a cursor's FETCH statements count together
 * against {@code rows N per query}, as one query, so reading in batches cannot get round the
 * limit. A new {@code DECLARE} of the name starts a new count.
 */
final class CursorRows {

    /** Bounds what one session makes the proxy remember. */
    private static final int MAX_CURSORS = 1024;
    private static final String NAME = "(\"(?:[^\"]|\"\")+\"|[\\p{L}_][\\p{L}\\p{N}_$]*)";
    private static final Pattern DECLARE = Pattern.compile("(?is)^\\s*DECLARE\\s+" + NAME);
    /** One FETCH statement alone; its last word is the cursor (FETCH [direction] [FROM | IN] cursor). */
    private static final Pattern FETCH = Pattern.compile("(?is)^\\s*FETCH\\b[^;]*?" + NAME + "\\s*;?\\s*$");

    private final Map<String, AtomicLong> fetched = new ConcurrentHashMap<>();

    /** A DECLARE statement was allowed: its cursor starts from zero rows. */
    void declared(String statement) {
        Matcher matcher = DECLARE.matcher(statement);
        if (matcher.find()) {
            fetched.remove(name(matcher.group(1)));
        }
    }

    /** The running count of the cursor {@code sql} fetches from, when {@code sql} is a single FETCH. */
    Optional<AtomicLong> counterOf(String sql) {
        if (sql == null) {
            return Optional.empty();
        }
        if (!startsWithFetch(sql)) {
            return Optional.empty(); // every result passes here: most are not FETCH, and need no regex to say so
        }
        Matcher matcher = FETCH.matcher(sql);
        if (!matcher.matches()) {
            return Optional.empty();
        }
        if (fetched.size() >= MAX_CURSORS) {
            fetched.clear(); // a session cycling through thousands of cursor names; counts start again
        }
        return Optional.of(fetched.computeIfAbsent(name(matcher.group(1)), k -> new AtomicLong()));
    }

    /** Whether the text's first word could be FETCH (what {@link #FETCH} requires first), without a regex. */
    private static boolean startsWithFetch(String sql) {
        int i = 0;
        while (i < sql.length() && Character.isWhitespace(sql.charAt(i))) {
            i++;
        }
        return sql.regionMatches(true, i, "FETCH", 0, 5);
    }

    /** As PostgreSQL folds names: quoted ones keep their case, unquoted ones are lower-cased. */
    private static String name(String word) {
        if (word.startsWith("\"")) {
            return word.substring(1, word.length() - 1).replace("\"\"", "\"");
        }
        return word.toLowerCase(Locale.ROOT);
    }
}
