package dev.pgpolicy.proxy.scram;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;

/**
 * Verifiers for users that do not exist (or have no password), so that the exchange for them is
 * the same as for a wrong password: same messages, same work, same failure. As PostgreSQL does
 * ({@code scram_mock_salt}), the salt is derived from a server secret and the user name, so a
 * prober asking twice for the same name sees the same salt, as for a real user, and cannot tell
 * existing names from invented ones. The keys come from the same secret; nobody knows a password
 * for them, and the exchange is marked as doomed anyway.
 */
public final class MockVerifiers {
    private static final int SECRET_LENGTH = 32;

    private final byte[] secret;
    private final int iterations;

    /**
     * {@code iterations} should be what real verifiers use (the most common count in the users
     * file), since the server-first-message shows it.
     */
    public MockVerifiers(byte[] secret, int iterations) {
        if (secret.length < 16) {
            throw new IllegalArgumentException("mock verifier secret must be at least 16 bytes");
        }
        if (iterations < 1 || iterations > ScramVerifier.MAX_ITERATIONS) {
            throw new IllegalArgumentException("iteration count out of range");
        }
        this.secret = secret.clone();
        this.iterations = iterations;
    }

    /** A fresh random secret: salts are stable for the life of the process. */
    public static MockVerifiers random(int iterations) {
        byte[] secret = new byte[SECRET_LENGTH];
        new SecureRandom().nextBytes(secret);
        try {
            return new MockVerifiers(secret, iterations);
        } finally {
            Arrays.fill(secret, (byte) 0);
        }
    }

    /** salt := HMAC(secret, "salt" || user)[0..16]; the keys likewise with their own labels. */
    public ScramVerifier forUser(String user) {
        byte[] salt = label("salt", user);
        byte[] storedKey = label("stored-key", user);
        byte[] serverKey = label("server-key", user);
        try {
            return new ScramVerifier(iterations, Arrays.copyOf(salt, ScramVerifier.DEFAULT_SALT_LENGTH),
                    storedKey, serverKey);
        } finally {
            ScramCrypto.wipe(salt, storedKey, serverKey);
        }
    }

    public int iterations() {
        return iterations;
    }

    private byte[] label(String label, String user) {
        return ScramCrypto.hmac(secret, (label + "\0" + user).getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String toString() {
        return "MockVerifiers[iterations=" + iterations + ", <secret redacted>]";
    }
}
