package dev.pgpolicy.policy;

import dev.pgpolicy.lang.ResourceKind;
import java.util.List;

/**
 * A compiled resource pattern. {@code schema} is null when the pattern does not name one and so
 * matches the object in any schema. A {@code DATABASE} pattern matches every request of a
 * session whose database it matches; that test depends only on the session and is therefore a
 * bit of the {@link PrincipalClass} ({@code databaseBit}).
 */
record ResourceMatcher(ResourceKind kind, Glob schema, Glob object, Glob column, int databaseBit, String text) {

    /** The literal object (table or function) name this matcher needs, for the index; null if it has none. */
    String indexKey() {
        return switch (kind) {
            case TABLE, FUNCTION, COLUMN -> object.literal() ? object.text() : null;
            case SCHEMA, DATABASE -> null;
        };
    }

    boolean matches(Request request, boolean forDeny, PrincipalClass principal) {
        switch (kind) {
            case DATABASE:
                return principal.databaseMatches(databaseBit);
            case SCHEMA:
                return request.kind() != ResourceKind.DATABASE && schemaMatches(request.object(), forDeny);
            case TABLE:
                return (request.kind() == ResourceKind.TABLE || request.kind() == ResourceKind.COLUMN)
                        && object.matches(request.object().name()) && schemaMatches(request.object(), forDeny);
            case FUNCTION:
                return request.kind() == ResourceKind.FUNCTION
                        && object.matches(request.object().name()) && schemaMatches(request.object(), forDeny);
            case COLUMN:
                return request.kind() == ResourceKind.COLUMN
                        && object.matches(request.object().name())
                        && columnMatches(request.column(), forDeny)
                        && schemaMatches(request.object(), forDeny);
            default:
                throw new AssertionError("unhandled resource kind " + kind);
        }
    }

    /** {@code *} in a statement ({@code SELECT *}) may be any column: it meets every column deny, and only a {@code *} allow. */
    private boolean columnMatches(String requested, boolean forDeny) {
        if ("*".equals(requested)) {
            return forDeny || column.matchesAll();
        }
        return column.matches(requested);
    }

    /**
     * With an uncertain schema, a deny matches if any possible schema matches and an allow only
     * if every possible schema does; with no knowledge at all, an allow needs a pattern that
     * does not depend on the schema (LANGUAGE.md, "RESOURCES").
     */
    private boolean schemaMatches(ResolvedName name, boolean forDeny) {
        if (schema == null || schema.matchesAll()) {
            return true;
        }
        if (name.anySchema()) {
            return forDeny;
        }
        List<String> schemas = name.schemas();
        if (forDeny) {
            for (String candidate : schemas) {
                if (schema.matches(candidate)) {
                    return true;
                }
            }
            return false;
        }
        for (String candidate : schemas) {
            if (!schema.matches(candidate)) {
                return false;
            }
        }
        return !schemas.isEmpty();
    }

    @Override
    public String toString() {
        return text;
    }
}
