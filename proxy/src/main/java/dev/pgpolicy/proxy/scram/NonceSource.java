package dev.pgpolicy.proxy.scram;

import java.security.SecureRandom;
import java.util.Base64;

/**
 * Where the nonces of a SCRAM exchange come from. Production code uses {@link #secureRandom()};
 * tests inject fixed nonces to replay the RFC 7677 example byte for byte.
 */
@FunctionalInterface
public interface NonceSource {
    /**
     * Raw nonce length before base64, as PostgreSQL's SCRAM_RAW_NONCE_LEN: 144 bits, beyond any
     * chance of repetition, and base64 of 18 bytes has no padding.
     */
    int RAW_NONCE_LENGTH = 18;

    /** A fresh nonce of printable ASCII without ',' (RFC 5802 section 7, {@code printable}). */
    String next();

    static NonceSource secureRandom() {
        SecureRandom random = new SecureRandom();
        return () -> {
            byte[] raw = new byte[RAW_NONCE_LENGTH];
            random.nextBytes(raw);
            return Base64.getEncoder().encodeToString(raw);
        };
    }
}
