package dev.pgpolicy.proxy.scram;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The SCRAM-SHA-256 primitives of RFC 5802 section 2.2 with H = SHA-256 (RFC 7677). Every method
 * returns a fresh array the caller owns and wipes.
 */
final class ScramCrypto {
    static final String MECHANISM = "SCRAM-SHA-256";
    static final String MECHANISM_PLUS = "SCRAM-SHA-256-PLUS";
    /** Output length of SHA-256, and so of every key, signature and proof. */
    static final int KEY_LENGTH = 32;

    private static final byte[] CLIENT_KEY = "Client Key".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] SERVER_KEY = "Server Key".getBytes(StandardCharsets.US_ASCII);
    private static final String HMAC = "HmacSHA256";

    private ScramCrypto() {
    }

    /**
     * Hi(str, salt, i) := U1 XOR U2 XOR ... XOR Ui, where U1 := HMAC(str, salt + INT(1)) and
     * Uk := HMAC(str, Uk-1): PBKDF2 with HMAC-SHA-256 and one output block.
     */
    static byte[] hi(byte[] normalizedPassword, byte[] salt, int iterations) {
        if (iterations < 1) {
            throw new IllegalArgumentException("iteration count must be positive");
        }
        Mac mac = mac(normalizedPassword);
        mac.update(salt);
        mac.update(new byte[] {0, 0, 0, 1});
        byte[] u = mac.doFinal();
        byte[] result = u.clone();
        try {
            for (int i = 1; i < iterations; i++) {
                mac.update(u);
                try {
                    mac.doFinal(u, 0);
                } catch (GeneralSecurityException e) {
                    throw new IllegalStateException("HMAC-SHA-256 output does not fit 32 bytes", e);
                }
                for (int j = 0; j < result.length; j++) {
                    result[j] ^= u[j];
                }
            }
            return result;
        } finally {
            Arrays.fill(u, (byte) 0);
        }
    }

    /** HMAC(key, str) with SHA-256 (RFC 2104). */
    static byte[] hmac(byte[] key, byte[] data) {
        return mac(key).doFinal(data);
    }

    /** H(str) := SHA-256(str). */
    static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is a mandatory JCA algorithm", e);
        }
    }

    /** ClientKey := HMAC(SaltedPassword, "Client Key"). */
    static byte[] clientKey(byte[] saltedPassword) {
        return hmac(saltedPassword, CLIENT_KEY);
    }

    /** ServerKey := HMAC(SaltedPassword, "Server Key"). */
    static byte[] serverKey(byte[] saltedPassword) {
        return hmac(saltedPassword, SERVER_KEY);
    }

    /** a XOR b, for ClientProof := ClientKey XOR ClientSignature and its inverse. */
    static byte[] xor(byte[] a, byte[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("XOR of arrays of different lengths");
        }
        byte[] out = new byte[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = (byte) (a[i] ^ b[i]);
        }
        return out;
    }

    static void wipe(byte[]... arrays) {
        for (byte[] array : arrays) {
            if (array != null) {
                Arrays.fill(array, (byte) 0);
            }
        }
    }

    private static Mac mac(byte[] key) {
        try {
            Mac mac = Mac.getInstance(HMAC);
            // SecretKeySpec copies the key; an empty password is a legal HMAC key in RFC 2104 but
            // SecretKeySpec refuses it, so use a single zero byte, which HMAC pads to the same block.
            mac.init(new SecretKeySpec(key.length == 0 ? new byte[1] : key, HMAC));
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HMAC-SHA-256 is a mandatory JCA algorithm", e);
        }
    }
}
