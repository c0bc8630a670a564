package dev.pgpolicy.proxy.identity;

import dev.pgpolicy.proxy.scram.ScramVerifier;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One user of the proxy, from the {@code users:} section of the users file.
 *
 * @param name            the user name clients send in the startup packet
 * @param scram           the SCRAM-SHA-256 verifier; present whenever {@code auth} needs a password
 * @param groups          the groups policies see, in file order, without duplicates
 * @param upstream        the name of the service account in {@code accounts:} used upstream
 * @param auth            how the user must authenticate
 * @param certCn          the certificate identity (CN) that maps to this user, when not the name
 */
public record UserEntry(String name, Optional<ScramVerifier> scram, List<String> groups, String upstream,
                        AuthMethod auth, Optional<String> certCn) {

    public UserEntry {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(scram, "scram");
        groups = List.copyOf(groups);
        Objects.requireNonNull(upstream, "upstream");
        Objects.requireNonNull(auth, "auth");
        Objects.requireNonNull(certCn, "certCn");
        if (auth.needsPassword() && scram.isEmpty()) {
            throw new IllegalArgumentException("auth " + auth.configName() + " needs a SCRAM verifier");
        }
    }

    /** The certificate identity that authenticates this user: {@code cert_cn}, else the user name. */
    public String certificateIdentity() {
        return certCn.orElse(name);
    }

    /** Whether a verified client certificate with identity {@code identity} may stand for this user. */
    public boolean acceptsCertificate(String identity) {
        return auth.needsCertificate() && certificateIdentity().equals(identity);
    }
}
