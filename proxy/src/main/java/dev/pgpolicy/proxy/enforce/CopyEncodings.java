package dev.pgpolicy.proxy.enforce;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.charset.UnsupportedCharsetException;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The Java charset of a PostgreSQL encoding name, for decoding a COPY value to mask it and
 * encoding the mask's text back. Names are matched as PostgreSQL matches them
 * (pg_char_to_encoding: case and punctuation do not count), among the encodings in which every
 * byte below 0x80 is the ASCII character (PostgreSQL docs, "Character Set Support"): only in those
 * can the rows be cut at delimiter, quote and newline bytes without decoding them. SQL_ASCII
 * passes bytes unconverted, whatever they mean ({@link #opaque}): a value is read as UTF-8 when it
 * is valid UTF-8 (what such databases mostly hold) and otherwise as ISO-8859-1, which keeps every
 * byte as it is.
 */
final class CopyEncodings {

    private static final Map<String, String> CHARSETS = Map.ofEntries(
            Map.entry("UTF8", "UTF-8"), Map.entry("UNICODE", "UTF-8"),
            Map.entry("SQLASCII", "UTF-8"),
            Map.entry("LATIN1", "ISO-8859-1"), Map.entry("ISO88591", "ISO-8859-1"),
            Map.entry("LATIN2", "ISO-8859-2"), Map.entry("ISO88592", "ISO-8859-2"),
            Map.entry("LATIN3", "ISO-8859-3"), Map.entry("ISO88593", "ISO-8859-3"),
            Map.entry("LATIN4", "ISO-8859-4"), Map.entry("ISO88594", "ISO-8859-4"),
            Map.entry("LATIN5", "ISO-8859-9"), Map.entry("ISO88599", "ISO-8859-9"),
            Map.entry("LATIN7", "ISO-8859-13"), Map.entry("ISO885913", "ISO-8859-13"),
            Map.entry("LATIN9", "ISO-8859-15"), Map.entry("ISO885915", "ISO-8859-15"),
            Map.entry("LATIN10", "ISO-8859-16"), Map.entry("ISO885916", "ISO-8859-16"),
            Map.entry("ISO88595", "ISO-8859-5"), Map.entry("ISO88596", "ISO-8859-6"),
            Map.entry("ISO88597", "ISO-8859-7"), Map.entry("ISO88598", "ISO-8859-8"),
            Map.entry("WIN866", "IBM866"), Map.entry("WIN874", "x-windows-874"),
            Map.entry("WIN1250", "windows-1250"), Map.entry("WIN1251", "windows-1251"),
            Map.entry("WIN1252", "windows-1252"), Map.entry("WIN1253", "windows-1253"),
            Map.entry("WIN1254", "windows-1254"), Map.entry("WIN1255", "windows-1255"),
            Map.entry("WIN1256", "windows-1256"), Map.entry("WIN1257", "windows-1257"),
            Map.entry("WIN1258", "windows-1258"),
            Map.entry("KOI8R", "KOI8-R"), Map.entry("KOI8", "KOI8-R"), Map.entry("KOI8U", "KOI8-U"),
            Map.entry("EUCJP", "EUC-JP"), Map.entry("EUCKR", "EUC-KR"), Map.entry("EUCCN", "GB2312"),
            Map.entry("EUCTW", "x-EUC-TW"));

    /**
     * Answers by the name as the server reported it. Masking asks once per result set, so the
     * lookup must not cost a regular expression and a charset lookup each time; the server
     * reports only the few spellings of the encodings it knows, so the map stays small, and it
     * stops growing at {@link #MAX_REMEMBERED} all the same.
     */
    private static final Map<String, Optional<Charset>> BY_REPORTED_NAME = new ConcurrentHashMap<>();
    private static final int MAX_REMEMBERED = 64;

    private CopyEncodings() {
    }

    /** Whether {@code postgresName} is SQL_ASCII, whose bytes carry no declared encoding. */
    static boolean opaque(String postgresName) {
        return key(postgresName).equals("SQLASCII");
    }

    /** The charset of {@code postgresName}; empty for names the proxy cannot cut rows in. */
    static Optional<Charset> charset(String postgresName) {
        Optional<Charset> known = BY_REPORTED_NAME.get(postgresName);
        if (known != null) {
            return known;
        }
        Optional<Charset> charset = lookUp(postgresName);
        if (BY_REPORTED_NAME.size() < MAX_REMEMBERED) {
            BY_REPORTED_NAME.put(postgresName, charset);
        }
        return charset;
    }

    /** The name as pg_char_to_encoding compares it: letters and digits only, in upper case. */
    private static String key(String postgresName) {
        StringBuilder key = new StringBuilder(postgresName.length());
        for (int i = 0; i < postgresName.length(); i++) {
            char c = postgresName.charAt(i);
            if (c >= 'a' && c <= 'z') {
                key.append((char) (c - ('a' - 'A')));
            } else if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
                key.append(c);
            }
        }
        return key.toString();
    }

    private static Optional<Charset> lookUp(String postgresName) {
        String java = CHARSETS.get(key(postgresName));
        if (java == null) {
            return Optional.empty();
        }
        if (java.equals("UTF-8")) {
            return Optional.of(StandardCharsets.UTF_8);
        }
        try {
            return Optional.of(Charset.forName(java));
        } catch (UnsupportedCharsetException e) {
            return Optional.empty(); // a runtime without the extended charsets
        }
    }
}
