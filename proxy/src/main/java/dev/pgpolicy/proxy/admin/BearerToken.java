package dev.pgpolicy.proxy.admin;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * The admin endpoint's shared secret (RFC 6750 bearer token). Only its SHA-256 is kept, and a
 * presented token is hashed and compared with {@link MessageDigest#isEqual}, so the comparison
 * takes the same time whatever the token's length or the position of the first wrong character.
 */
final class BearerToken {

    /** 128 bits of entropy at least, written as hex or base64 (e.g. {@code openssl rand -hex 32}). */
    static final int MIN_LENGTH = 32;

    private static final String SCHEME = "Bearer ";

    private final byte[] digest;

    private BearerToken(byte[] digest) {
        this.digest = digest;
    }

    static BearerToken load(Path file) {
        String token;
        try {
            token = Files.readString(file, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the admin token file " + file + ": " + e.getMessage(), e);
        }
        if (token.length() < MIN_LENGTH) {
            throw new IllegalArgumentException("the admin token in " + file + " is too short: use at least "
                    + MIN_LENGTH + " characters (for example: openssl rand -hex 32)");
        }
        if (!token.chars().allMatch(c -> c > 0x20 && c < 0x7F)) {
            throw new IllegalArgumentException("the admin token in " + file
                    + " must be printable ASCII without spaces (RFC 6750 b64token)");
        }
        return new BearerToken(sha256(token.getBytes(StandardCharsets.US_ASCII)));
    }

    /** Whether an {@code Authorization} header value carries this token. */
    boolean accepts(String authorization) {
        if (authorization == null || authorization.length() < SCHEME.length()
                || !authorization.regionMatches(true, 0, SCHEME, 0, SCHEME.length())) {
            return false;
        }
        byte[] presented = sha256(authorization.substring(SCHEME.length()).strip().getBytes(StandardCharsets.UTF_8));
        try {
            return MessageDigest.isEqual(digest, presented);
        } finally {
            Arrays.fill(presented, (byte) 0);
        }
    }

    private static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("every Java runtime provides SHA-256", e);
        }
    }

    @Override
    public String toString() {
        return "BearerToken[redacted]";
    }
}
