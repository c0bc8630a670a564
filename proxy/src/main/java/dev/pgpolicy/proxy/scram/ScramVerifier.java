package dev.pgpolicy.proxy.scram;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.Objects;

/**
 * A stored SCRAM-SHA-256 verifier, in the text form PostgreSQL keeps in {@code pg_authid.rolpassword}
 * (src/backend/libpq/auth-scram.c, {@code scram_build_secret}):
 * <pre>
 * SCRAM-SHA-256$&lt;iterations&gt;:&lt;salt&gt;$&lt;StoredKey&gt;:&lt;ServerKey&gt;
 * </pre>
 * with salt and keys in standard base64. It holds no password, but it is enough for an offline
 * dictionary attack and, for ServerKey, to impersonate the server, so {@link #toString()} hides it
 * and only {@link #encode()} spells it out.
 */
public final class ScramVerifier {
    public static final String PREFIX = ScramCrypto.MECHANISM + "$";
    /** RFC 7677 section 4: at least 4096 iterations; PostgreSQL's default. */
    public static final int DEFAULT_ITERATIONS = 4096;
    /** PostgreSQL's SCRAM_DEFAULT_SALT_LEN. */
    public static final int DEFAULT_SALT_LENGTH = 16;
    /**
     * Upper bound for an iteration count we accept from a file or a server: Hi() runs in the
     * caller's thread, and a hostile upstream naming 2^31 iterations would pin a CPU for hours.
     * Ten million iterations take a few seconds, beyond any sensible setting.
     */
    public static final int MAX_ITERATIONS = 10_000_000;

    private final int iterations;
    private final byte[] salt;
    private final byte[] storedKey;
    private final byte[] serverKey;

    ScramVerifier(int iterations, byte[] salt, byte[] storedKey, byte[] serverKey) {
        if (iterations < 1 || iterations > MAX_ITERATIONS) {
            throw new IllegalArgumentException("iteration count out of range 1.." + MAX_ITERATIONS);
        }
        if (salt.length == 0) {
            throw new IllegalArgumentException("salt must not be empty");
        }
        if (storedKey.length != ScramCrypto.KEY_LENGTH || serverKey.length != ScramCrypto.KEY_LENGTH) {
            throw new IllegalArgumentException("StoredKey and ServerKey must be 32 bytes");
        }
        this.iterations = iterations;
        this.salt = salt.clone();
        this.storedKey = storedKey.clone();
        this.serverKey = serverKey.clone();
    }

    /** Thrown by {@link #parse}; the message never repeats the input, which may be a password. */
    public static final class FormatException extends Exception {
        private static final long serialVersionUID = 1L;

        FormatException(String message) {
            super(message);
        }
    }

    /** Parses the {@code pg_authid} text form; rejects anything else, plaintext above all. */
    public static ScramVerifier parse(String text) throws FormatException {
        Objects.requireNonNull(text, "text");
        if (!text.startsWith(PREFIX)) {
            if (text.startsWith("md5") && text.length() == 35) {
                throw new FormatException("an md5 hash is not a SCRAM-SHA-256 verifier; "
                        + "make one with `pgpolicy hash-password`");
            }
            throw new FormatException("not a SCRAM-SHA-256 verifier (expected \"" + PREFIX
                    + "<iterations>:<salt>$<StoredKey>:<ServerKey>\"); store the output of "
                    + "`pgpolicy hash-password`, never a plaintext password");
        }
        String body = text.substring(PREFIX.length());
        int dollar = body.indexOf('$');
        if (dollar < 0 || body.indexOf('$', dollar + 1) >= 0) {
            throw new FormatException("SCRAM-SHA-256 verifier must have the form \"" + PREFIX
                    + "<iterations>:<salt>$<StoredKey>:<ServerKey>\"");
        }
        String[] iterationsAndSalt = splitPair(body.substring(0, dollar), "<iterations>:<salt>");
        String[] keys = splitPair(body.substring(dollar + 1), "<StoredKey>:<ServerKey>");
        int iterations;
        try {
            iterations = Integer.parseInt(iterationsAndSalt[0]);
        } catch (NumberFormatException e) {
            throw new FormatException("SCRAM-SHA-256 verifier has a non-numeric iteration count");
        }
        if (iterations < 1 || iterations > MAX_ITERATIONS) {
            throw new FormatException("SCRAM-SHA-256 verifier iteration count must be 1.." + MAX_ITERATIONS);
        }
        byte[] salt = base64(iterationsAndSalt[1], "salt");
        byte[] storedKey = base64(keys[0], "StoredKey");
        byte[] serverKey = base64(keys[1], "ServerKey");
        try {
            if (salt.length == 0) {
                throw new FormatException("SCRAM-SHA-256 verifier has an empty salt");
            }
            if (storedKey.length != ScramCrypto.KEY_LENGTH || serverKey.length != ScramCrypto.KEY_LENGTH) {
                throw new FormatException("SCRAM-SHA-256 verifier keys must be 32 bytes each");
            }
            return new ScramVerifier(iterations, salt, storedKey, serverKey);
        } finally {
            ScramCrypto.wipe(storedKey, serverKey);
        }
    }

    /** A verifier for {@code password} with a fresh 16-byte salt from {@code random}. */
    public static ScramVerifier generate(char[] password, int iterations, SecureRandom random) {
        byte[] salt = new byte[DEFAULT_SALT_LENGTH];
        random.nextBytes(salt);
        return derive(password, salt, iterations);
    }

    /**
     * SaltedPassword := Hi(Normalize(password), salt, i);
     * StoredKey := H(HMAC(SaltedPassword, "Client Key"));
     * ServerKey := HMAC(SaltedPassword, "Server Key").
     */
    public static ScramVerifier derive(char[] password, byte[] salt, int iterations) {
        byte[] normalized = SaslPrep.passwordBytes(password);
        byte[] saltedPassword = null;
        byte[] clientKey = null;
        byte[] storedKey = null;
        byte[] serverKey = null;
        try {
            saltedPassword = ScramCrypto.hi(normalized, salt, iterations);
            clientKey = ScramCrypto.clientKey(saltedPassword);
            storedKey = ScramCrypto.sha256(clientKey);
            serverKey = ScramCrypto.serverKey(saltedPassword);
            return new ScramVerifier(iterations, salt, storedKey, serverKey);
        } finally {
            ScramCrypto.wipe(normalized, saltedPassword, clientKey, storedKey, serverKey);
        }
    }

    /**
     * Whether {@code password} produces this verifier, compared in constant time. Costs one Hi();
     * for checking a live login use {@link ScramServer}, which never sees the password.
     */
    public boolean matches(char[] password) {
        ScramVerifier candidate = derive(password, salt, iterations);
        try {
            return MessageDigest.isEqual(candidate.storedKey, storedKey)
                    & MessageDigest.isEqual(candidate.serverKey, serverKey);
        } finally {
            candidate.wipe();
        }
    }

    /** The {@code pg_authid} text form. */
    public String encode() {
        Base64.Encoder b64 = Base64.getEncoder();
        return PREFIX + iterations + ":" + b64.encodeToString(salt) + "$" + b64.encodeToString(storedKey)
                + ":" + b64.encodeToString(serverKey);
    }

    public int iterations() {
        return iterations;
    }

    public byte[] salt() {
        return salt.clone();
    }

    ScramVerifier copy() {
        return new ScramVerifier(iterations, salt, storedKey, serverKey);
    }

    byte[] storedKeyView() {
        return storedKey;
    }

    byte[] serverKeyView() {
        return serverKey;
    }

    /** Zeroes the keys; the verifier is useless afterwards. */
    void wipe() {
        ScramCrypto.wipe(storedKey, serverKey);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof ScramVerifier that
                && iterations == that.iterations
                && Arrays.equals(salt, that.salt)
                && MessageDigest.isEqual(storedKey, that.storedKey)
                && MessageDigest.isEqual(serverKey, that.serverKey);
    }

    @Override
    public int hashCode() {
        // Salt and count only: a hash code must not leak key material through hash-based collections.
        return 31 * iterations + Arrays.hashCode(salt);
    }

    @Override
    public String toString() {
        return "ScramVerifier[SCRAM-SHA-256, iterations=" + iterations + ", <keys redacted>]";
    }

    private static String[] splitPair(String text, String shape) throws FormatException {
        int colon = text.indexOf(':');
        if (colon < 0 || text.indexOf(':', colon + 1) >= 0) {
            throw new FormatException("SCRAM-SHA-256 verifier part must be " + shape);
        }
        return new String[] {text.substring(0, colon), text.substring(colon + 1)};
    }

    private static byte[] base64(String text, String what) throws FormatException {
        // Padded, as PostgreSQL writes and requires it.
        if (text.length() % 4 != 0) {
            throw new FormatException("SCRAM-SHA-256 verifier " + what + " is not valid base64");
        }
        try {
            return Base64.getDecoder().decode(text.getBytes(StandardCharsets.US_ASCII));
        } catch (IllegalArgumentException e) {
            throw new FormatException("SCRAM-SHA-256 verifier " + what + " is not valid base64");
        }
    }
}
