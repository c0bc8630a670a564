package dev.pgpolicy.proxy.embedded;

/**
 * Quoting for the few statements the launcher composes itself (role and database names,
 * passwords). Assumes {@code standard_conforming_strings = on}, the default since PostgreSQL 9.1,
 * under which a backslash inside '...' is an ordinary character (PostgreSQL docs, 4.1.2.1).
 */
final class Sql {
    private Sql() {
    }

    static String identifier(String name) {
        checkText(name, "identifier");
        if (name.isEmpty()) {
            throw new IllegalArgumentException("empty SQL identifier");
        }
        return '"' + name.replace("\"", "\"\"") + '"';
    }

    static String literal(String value) {
        checkText(value, "literal");
        return '\'' + value.replace("'", "''") + '\'';
    }

    private static void checkText(String text, String what) {
        // PostgreSQL text cannot hold NUL; refusing it here beats a confusing server error.
        if (text.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("SQL " + what + " contains a NUL character");
        }
    }
}
