package dev.pgpolicy.proxy.identity;

import java.util.Objects;

/**
 * A service account the proxy logs in upstream with, from the {@code accounts:} section.
 *
 * @param name      the account's key in the users file
 * @param user      the PostgreSQL role (the session's {@code db_user})
 * @param password  its password, never logged
 * @param source    where the password came from, for messages: {@code file <path>} or {@code env <NAME>}
 */
public record UpstreamAccount(String name, String user, Secret password, String source) {
    public UpstreamAccount {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(password, "password");
        Objects.requireNonNull(source, "source");
    }
}
