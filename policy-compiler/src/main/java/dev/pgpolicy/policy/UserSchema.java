package dev.pgpolicy.policy;

import java.util.Objects;

/**
 * What the {@code "$user"} entry of a search_path stands for in one session. PostgreSQL
 * (namespace.c, recomputeNamespacePath) replaces it by the schema named like the current role when
 * that schema exists and the role has USAGE on it, and skips it otherwise. The offline commands
 * assume it {@link #absent()}; the proxy asks its catalog connection, and when it cannot ask, the
 * schema is {@link #unknown}: it may hold any unqualified name, so such names stay uncertain
 * between it and the rest of the path (fail closed), never silently resolved past it.
 */
public record UserSchema(State state, String role) {

    public enum State {
        /** No usable schema of the role's name: {@code "$user"} is skipped. */
        ABSENT,
        /** The schema {@code role} exists and the role may use it: {@code "$user"} is that schema. */
        PRESENT,
        /** Nobody could tell: {@code "$user"} may or may not be the schema {@code role}. */
        UNKNOWN
    }

    public UserSchema {
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(role, "role");
    }

    // Written out: a record's generated equals and hashCode run through method-handle chains
    // (ObjectMethods) that showed in the proxy's statement-path profile, where this value is
    // compared inside its name-resolution keys for every statement.
    @Override
    public boolean equals(Object other) {
        return other == this || other instanceof UserSchema that && state == that.state && role.equals(that.role);
    }

    @Override
    public int hashCode() {
        return state.hashCode() * 31 + role.hashCode();
    }

    public static UserSchema absent() {
        return new UserSchema(State.ABSENT, "");
    }

    public static UserSchema present(String role) {
        return new UserSchema(State.PRESENT, role);
    }

    /** @param role the session's role, empty when even that is unknown */
    public static UserSchema unknown(String role) {
        return new UserSchema(State.UNKNOWN, role);
    }

    @Override
    public String toString() {
        return switch (state) {
            case ABSENT -> "absent";
            case PRESENT -> "schema " + role;
            case UNKNOWN -> "unknown (" + role + ")";
        };
    }
}
