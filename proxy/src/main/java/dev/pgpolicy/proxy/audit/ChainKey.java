package dev.pgpolicy.proxy.audit;

import dev.pgpolicy.proxy.config.KeyFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Set;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The chain function: SHA-256 (FIPS 180-4) of a record's canonical bytes, or HMAC-SHA256
 * (RFC 2104) under a key read once from {@code audit.hmac_key_file}. Without a key anyone who can
 * write the log can also recompute a plain SHA-256 chain after editing it; only the keyed chain
 * stops that, which is why verification refuses to fall back to plain SHA-256 when given a key.
 *
 * <p>Instances are not thread-safe (they reuse one digest or MAC); the log's writer thread and a
 * verifier each own theirs.
 */
public final class ChainKey implements AutoCloseable {
    public static final String SHA256 = "sha256";
    public static final String HMAC_SHA256 = "hmac-sha256";

    /** RFC 2104, section 3: keys shorter than the hash output (32 bytes) weaken the MAC. */
    static final int MIN_KEY_BYTES = 32;
    /** A key file is a small secret; anything larger is the wrong file. */
    static final int MAX_KEY_BYTES = 4096;

    private static final Logger log = LoggerFactory.getLogger(ChainKey.class);
    private static final byte[] GENESIS_LABEL = "pgpolicy audit chain v1 genesis".getBytes(StandardCharsets.US_ASCII);
    private static final HexFormat HEX = HexFormat.of();
    private static final byte[] LOWER_HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

    private final byte[] key;
    private final MessageDigest digest;
    private final Mac mac;
    /** The last chain value computed by {@link #chainHex}; SHA-256 and HMAC-SHA256 both give 32 bytes. */
    private final byte[] value = new byte[32];

    private ChainKey(byte[] key) {
        this.key = key;
        try {
            if (key == null) {
                digest = MessageDigest.getInstance("SHA-256");
                mac = null;
            } else {
                digest = null;
                mac = Mac.getInstance("HmacSHA256");
                mac.init(new SecretKeySpec(key, "HmacSHA256"));
            }
        } catch (GeneralSecurityException e) {
            // Every Java 17 runtime provides both (Java Security Standard Algorithm Names).
            throw new IllegalStateException("SHA-256 / HmacSHA256 unavailable", e);
        }
    }

    public static ChainKey unkeyed() {
        return new ChainKey(null);
    }

    /**
     * Reads the key file: its bytes are the key, minus one trailing newline, so that
     * {@code openssl rand -hex 32 > audit.key} gives a usable 64-byte key. The key is never logged.
     */
    public static ChainKey fromFile(Path keyFile) throws IOException {
        warnIfShared(keyFile);
        if (Files.size(keyFile) > MAX_KEY_BYTES) {
            throw new IOException("audit key file " + keyFile + " is larger than " + MAX_KEY_BYTES + " bytes");
        }
        byte[] raw = Files.readAllBytes(keyFile);
        byte[] key = KeyFiles.keyBytes(raw);
        int length = key.length;
        if (key.length < MIN_KEY_BYTES) {
            Arrays.fill(key, (byte) 0);
            throw new IOException("audit key file " + keyFile + " holds " + length + " bytes; at least "
                    + MIN_KEY_BYTES + " are needed (e.g. openssl rand -hex 32)");
        }
        return new ChainKey(key);
    }

    private static void warnIfShared(Path keyFile) {
        try {
            Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(keyFile);
            if (permissions.contains(PosixFilePermission.GROUP_READ)
                    || permissions.contains(PosixFilePermission.OTHERS_READ)
                    || permissions.contains(PosixFilePermission.GROUP_WRITE)
                    || permissions.contains(PosixFilePermission.OTHERS_WRITE)) {
                log.warn("audit key file {} is accessible to group or others; restrict it with chmod 600", keyFile);
            }
        } catch (UnsupportedOperationException | IOException e) {
            log.warn("cannot read the permissions of audit key file {}: {}", keyFile, e.toString());
        }
    }

    public String algorithm() {
        return key == null ? SHA256 : HMAC_SHA256;
    }

    public boolean keyed() {
        return key != null;
    }

    /** The lowercase hex chain value of {@code bytes[offset, offset + length)}. */
    public String chain(byte[] bytes, int offset, int length) {
        byte[] value;
        if (mac != null) {
            mac.update(bytes, offset, length);
            value = mac.doFinal();
        } else {
            digest.update(bytes, offset, length);
            value = digest.digest();
        }
        return HEX.formatHex(value);
    }

    /**
     * Writes the chain value of {@code bytes[offset, offset + length)} as 64 lowercase hex digits
     * at {@code hex[hexOffset]}: what {@link #chain} returns, without the String, the digest array
     * and the hex array per line that the writer thread would otherwise make.
     */
    void chainHex(byte[] bytes, int offset, int length, byte[] hex, int hexOffset) {
        try {
            if (mac != null) {
                mac.update(bytes, offset, length);
                mac.doFinal(value, 0);
            } else {
                digest.update(bytes, offset, length);
                digest.digest(value, 0, value.length);
            }
        } catch (GeneralSecurityException e) {
            // Only a too small output array gets here, and value is sized for SHA-256.
            throw new IllegalStateException("chain value does not fit its buffer", e);
        }
        for (int i = 0; i < value.length; i++) {
            hex[hexOffset + 2 * i] = LOWER_HEX[value[i] >> 4 & 0xF];
            hex[hexOffset + 2 * i + 1] = LOWER_HEX[value[i] & 0xF];
        }
    }

    /**
     * The {@code prev} of the first record of a new chain: the chain function over a fixed label,
     * so a keyed chain's anchor differs per key and a wrong key fails on the very first record.
     */
    public String genesis() {
        return chain(GENESIS_LABEL, 0, GENESIS_LABEL.length);
    }

    @Override
    public void close() {
        if (key != null) {
            Arrays.fill(key, (byte) 0);
        }
    }

    @Override
    public String toString() {
        return "ChainKey[" + algorithm() + "]";
    }
}
