package dev.pgpolicy.proxy.identity;

import java.util.Locale;
import java.util.Optional;

/** How a user must authenticate to the proxy: the {@code auth} key of a users-file entry. */
public enum AuthMethod {
    /** SCRAM-SHA-256 against the stored verifier. */
    PASSWORD,
    /** A client certificate issued by the configured client CA, whose identity maps to the user. */
    CERT,
    /** Both: the certificate and then the password. */
    BOTH;

    public boolean needsPassword() {
        return this != CERT;
    }

    public boolean needsCertificate() {
        return this != PASSWORD;
    }

    /** The name used in the users file and in policies ({@code auth == "cert"}). */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }

    static Optional<AuthMethod> fromConfig(String text) {
        for (AuthMethod method : values()) {
            if (method.configName().equals(text)) {
                return Optional.of(method);
            }
        }
        return Optional.empty();
    }
}
