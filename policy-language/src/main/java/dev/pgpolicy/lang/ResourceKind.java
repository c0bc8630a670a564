package dev.pgpolicy.lang;

import java.util.Locale;

public enum ResourceKind {
    TABLE, COLUMN, FUNCTION, SCHEMA, DATABASE;

    public String keyword() {
        return name().toLowerCase(Locale.ROOT);
    }
}
