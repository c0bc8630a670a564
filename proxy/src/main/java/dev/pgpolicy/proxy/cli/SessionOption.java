package dev.pgpolicy.proxy.cli;

import dev.pgpolicy.lang.SessionSpec;
import dev.pgpolicy.lang.Span;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The {@code --as} option of {@code explain}: {@code user=ana,groups=a|b,client_ip=10.1.2.3}.
 * Keys are the session attributes of the language (LANGUAGE.md), with {@code app} for
 * application_name, {@code time} as ISO-8601 and {@code search_path} separated by {@code |}.
 * Anything unknown or malformed is refused with a message naming it: an explanation for a
 * session the user did not mean would be worse than none.
 */
record SessionOption(SessionSpec session, List<String> searchPath) {

    static final List<String> KEYS = List.of("user", "db_user", "database", "app", "groups", "client_ip",
            "auth", "tls", "cert_cn", "time", "search_path");

    SessionOption {
        searchPath = List.copyOf(searchPath);
    }

    static SessionOption parse(String text) {
        String user = null;
        String dbUser = null;
        String database = null;
        String app = null;
        List<String> groups = List.of();
        InetAddress clientIp = null;
        String auth = null;
        Boolean tls = null;
        String certCn = null;
        Instant time = null;
        List<String> searchPath = List.of();
        Set<String> seen = new HashSet<>();

        for (String item : text.split(",", -1)) {
            if (item.isBlank()) {
                continue;
            }
            int equals = item.indexOf('=');
            if (equals <= 0) {
                throw new IllegalArgumentException("--as: expected key=value, got '" + item.strip() + "'");
            }
            String key = item.substring(0, equals).strip().toLowerCase(Locale.ROOT);
            String value = item.substring(equals + 1).strip();
            if (!seen.add(key)) {
                throw new IllegalArgumentException("--as: '" + key + "' given twice");
            }
            switch (key) {
                case "user":
                    user = value;
                    break;
                case "db_user":
                    dbUser = value;
                    break;
                case "database":
                    database = value;
                    break;
                case "app":
                case "application_name":
                    app = value;
                    break;
                case "groups":
                    groups = splitList(value);
                    break;
                case "client_ip":
                    clientIp = address(value);
                    break;
                case "auth":
                    auth = value;
                    break;
                case "tls":
                    tls = bool(value);
                    break;
                case "cert_cn":
                    certCn = value;
                    break;
                case "time":
                    time = instant(value);
                    break;
                case "search_path":
                    searchPath = splitList(value);
                    break;
                default:
                    throw new IllegalArgumentException("--as: unknown attribute '" + key + "'; known: "
                            + String.join(", ", KEYS));
            }
        }
        SessionSpec spec = new SessionSpec(user, groups, clientIp, app, time, dbUser, database, auth, tls, certCn,
                new Span("--as", 1, 1));
        return new SessionOption(spec, searchPath);
    }

    private static List<String> splitList(String value) {
        List<String> items = new ArrayList<>();
        for (String item : value.split("\\|", -1)) {
            if (!item.isBlank()) {
                items.add(item.strip());
            }
        }
        return items;
    }

    /** Only literal addresses: resolving a host name here would send DNS traffic and could lie. */
    private static InetAddress address(String value) {
        if (!value.matches("\\d{1,3}(\\.\\d{1,3}){3}|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*")) {
            throw new IllegalArgumentException("--as: client_ip must be an IPv4 or IPv6 address, got '" + value + "'");
        }
        try {
            return InetAddress.getByName(value);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("--as: client_ip is not a valid address: '" + value + "'");
        }
    }

    private static Boolean bool(String value) {
        switch (value.toLowerCase(Locale.ROOT)) {
            case "true":
            case "on":
            case "yes":
                return true;
            case "false":
            case "off":
            case "no":
                return false;
            default:
                throw new IllegalArgumentException("--as: tls must be true or false, got '" + value + "'");
        }
    }

    private static Instant instant(String value) {
        try {
            return OffsetDateTime.parse(value).toInstant();
        } catch (DateTimeParseException notOffset) {
            try {
                return Instant.parse(value);
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException("--as: time must be ISO-8601 such as 2026-03-04T10:00:00Z, got '"
                        + value + "'");
            }
        }
    }
}
