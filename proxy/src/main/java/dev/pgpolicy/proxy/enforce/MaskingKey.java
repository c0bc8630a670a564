package dev.pgpolicy.proxy.enforce;

import dev.pgpolicy.policy.MaskFunction;
import dev.pgpolicy.policy.PolicySet;
import dev.pgpolicy.proxy.config.KeyFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.Set;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The key of {@code hash()} masks (LANGUAGE.md, "MASK": keyed and deterministic). A token is
 * {@code h:} and the first 12 bytes of HMAC-SHA256(key, UTF-8 value) in hex (RFC 2104); 96 bits
 * keep accidental collisions out of reach for any table a join or a count runs over.
 *
 * <p>Configured ({@code masking.hash_key_file}), the key is the file's bytes as they are, minus one
 * trailing newline, exactly as {@code audit.hmac_key_file} reads its key, so
 * {@code openssl rand -hex 32 > mask.key} gives a usable key (64 bytes of hex text, used as text,
 * not decoded). Every proxy reading the same file produces the same tokens, across restarts and
 * behind one load balancer. Without the file the key is random per process: tokens then change
 * on every restart and differ between instances.
 *
 * <p>The key never appears in a log or in {@link #toString()}; copies read from the file are
 * wiped, and {@link #close()} wipes the one kept.
 */
public final class MaskingKey implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(MaskingKey.class);

    /** RFC 2104, section 3: keys shorter than the hash output (32 bytes for SHA-256) weaken the MAC. */
    static final int MIN_KEY_BYTES = 32;
    /** A key file is a small secret; anything larger is the wrong file. */
    static final int MAX_KEY_BYTES = 4096;
    /** Bytes of the MAC kept in a token. */
    private static final int TOKEN_BYTES = 12;
    private static final Set<PosixFilePermission> OWNER_READ_WRITE =
            EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);

    /** Thrown when the configured key file cannot be used; the message is for the operator. */
    public static final class KeyFileException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        KeyFileException(String message) {
            super(message);
        }
    }

    private final byte[] key;
    private final boolean configured;
    /** Mac instances are not thread-safe; decision workers and event loops each keep one. */
    private final ThreadLocal<Mac> macs = ThreadLocal.withInitial(this::newMac);

    private MaskingKey(byte[] key, boolean configured) {
        this.key = key;
        this.configured = configured;
    }

    /** A random key for this process only: tokens are stable while it runs, not across restarts. */
    public static MaskingKey perProcess() {
        byte[] key = new byte[MIN_KEY_BYTES];
        new SecureRandom().nextBytes(key);
        return new MaskingKey(key, false);
    }

    /**
     * Reads {@code masking.hash_key_file}. Throws {@link KeyFileException} naming the file when it
     * is unreadable, larger than {@value #MAX_KEY_BYTES} bytes, or holds fewer than
     * {@value #MIN_KEY_BYTES} bytes of key; warns, as ssh does, when group or others have any
     * access to it.
     */
    public static MaskingKey fromFile(Path keyFile) {
        String where = "masking.hash_key_file " + keyFile;
        if (!Files.isRegularFile(keyFile)) {
            throw new KeyFileException(where + ": no such file");
        }
        warnIfShared(keyFile, where);
        byte[] raw;
        try {
            if (Files.size(keyFile) > MAX_KEY_BYTES) {
                throw new KeyFileException(where + ": larger than " + MAX_KEY_BYTES + " bytes; not a key file");
            }
            raw = Files.readAllBytes(keyFile);
        } catch (IOException e) {
            throw new KeyFileException(where + ": cannot read: " + e.getMessage());
        }
        byte[] key = KeyFiles.keyBytes(raw);
        int length = key.length;
        if (key.length < MIN_KEY_BYTES) {
            Arrays.fill(key, (byte) 0);
            throw new KeyFileException(where + ": holds " + length + " bytes of key; at least " + MIN_KEY_BYTES
                    + " are needed (create one with: openssl rand -hex 32 > " + keyFile.getFileName() + ")");
        }
        return new MaskingKey(key, true);
    }

    private static void warnIfShared(Path keyFile, String where) {
        try {
            Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(keyFile);
            if (!OWNER_READ_WRITE.containsAll(permissions)) {
                LOG.warn("{}: permissions {} are too open; anyone who can read the key can recompute hash() tokens"
                        + " from guessed values: restrict it with chmod 600", where,
                        PosixFilePermissions.toString(permissions));
            }
        } catch (UnsupportedOperationException | IOException e) {
            LOG.warn("{}: cannot read its permissions ({}); make sure only the proxy's user can read it", where,
                    e.toString());
        }
    }

    /** Whether the key came from {@code masking.hash_key_file} (tokens stable across restarts). */
    public boolean configured() {
        return configured;
    }

    /**
     * At start: a per-process key silently breaks the "deterministic" promise for anyone who
     * exports masked data or runs several proxies, so a set that uses {@code hash()} without a
     * configured key is reported once, at WARN.
     */
    void warnIfUnstable(PolicySet set) {
        if (!configured && set.usesMask(MaskFunction.HASH)) {
            LOG.warn("the policy set uses hash() masks but masking.hash_key_file is not configured: tokens come from a"
                    + " key generated at start, so they change on every restart and differ between proxy instances");
        }
    }

    /** The {@code hash()} token of {@code value}. */
    String token(String value) {
        byte[] digest = macs.get().doFinal(value.getBytes(StandardCharsets.UTF_8));
        return "h:" + HexFormat.of().formatHex(digest, 0, TOKEN_BYTES);
    }

    private Mac newMac() {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is required of every Java platform", e);
        }
    }

    @Override
    public void close() {
        Arrays.fill(key, (byte) 0);
    }

    @Override
    public String toString() {
        return configured ? "MaskingKey[configured]" : "MaskingKey[per process]";
    }
}
