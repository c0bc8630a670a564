package dev.pgpolicy.policy;

import java.util.Locale;
import java.util.Optional;

/** The session attributes of LANGUAGE.md, with their types. */
enum Attribute {
    USER(ValueType.STRING),
    DB_USER(ValueType.STRING),
    DATABASE(ValueType.STRING),
    APPLICATION_NAME(ValueType.STRING),
    CLIENT_IP(ValueType.IP),
    GROUPS(ValueType.STRING_SET),
    AUTH(ValueType.STRING),
    TLS(ValueType.BOOL),
    CERT_CN(ValueType.STRING),
    HOUR(ValueType.INT),
    WEEKDAY(ValueType.WEEKDAY),
    NOW(ValueType.TIMESTAMP);

    private final ValueType type;

    Attribute(ValueType type) {
        this.type = type;
    }

    ValueType type() {
        return type;
    }

    String keyword() {
        return name().toLowerCase(Locale.ROOT);
    }

    boolean readsTime() {
        return this == HOUR || this == WEEKDAY || this == NOW;
    }

    static Optional<Attribute> fromKeyword(String keyword) {
        for (Attribute attribute : values()) {
            if (attribute.keyword().equals(keyword)) {
                return Optional.of(attribute);
            }
        }
        return Optional.empty();
    }

    /** The value, or null when the session does not have it (which evaluates to an error). */
    Object read(SessionContext session) {
        return switch (this) {
            case USER -> session.user();
            case DB_USER -> session.dbUser();
            case DATABASE -> session.database();
            case APPLICATION_NAME -> session.applicationName();
            case CLIENT_IP -> session.clientIp();
            case GROUPS -> session.groups();
            case AUTH -> session.auth();
            case TLS -> session.tls();
            case CERT_CN -> session.certCn();
            case HOUR -> session.hour();
            case WEEKDAY -> session.weekday();
            case NOW -> session.time();
        };
    }
}
