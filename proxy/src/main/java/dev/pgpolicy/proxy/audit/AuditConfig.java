package dev.pgpolicy.proxy.audit;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * The {@code audit:} section of the configuration.
 *
 * @param directory where the audit files are ({@code audit.dir}, {@code --audit DIR})
 * @param hmacKeyFile the key for an HMAC-SHA256 chain ({@code audit.hmac_key_file}), or null for
 *     plain SHA-256
 * @param maxFileBytes a file is rotated before a record would take it past this size
 * @param rotationInterval a file is rotated once it is this old (checked when a record arrives)
 * @param failClosed {@code audit.fail_closed}: sessions refuse statements while records cannot be
 *     written; the log itself only reports, the session acts on it
 * @param queueCapacity records waiting for the writer thread; when full, appends are refused
 * @param sync when the writer forces records to disk
 * @param retryInterval how often the writer tries to resume after an I/O error
 */
public record AuditConfig(
        Path directory,
        Path hmacKeyFile,
        long maxFileBytes,
        Duration rotationInterval,
        boolean failClosed,
        int queueCapacity,
        Sync sync,
        Duration retryInterval) {

    public enum Sync {
        /** fsync after every batch before reporting its records written: nothing written is lost on power failure. */
        BATCH,
        /** Leave flushing to the operating system: survives a process crash, not a power failure. */
        NONE
    }

    /** 64 MiB keeps a file quick to verify and to ship; a day matches typical retention units. */
    public static final long DEFAULT_MAX_FILE_BYTES = 64L * 1024 * 1024;
    public static final Duration DEFAULT_ROTATION_INTERVAL = Duration.ofDays(1);
    /** About a second of statements at a high rate; a longer backlog means the disk is not keeping up. */
    public static final int DEFAULT_QUEUE_CAPACITY = 65_536;
    public static final Duration DEFAULT_RETRY_INTERVAL = Duration.ofSeconds(1);
    /** Room for a log_start record plus at least one statement record. */
    static final long MIN_FILE_BYTES = 1024;

    public AuditConfig {
        Objects.requireNonNull(directory, "directory");
        if (maxFileBytes < MIN_FILE_BYTES) {
            throw new IllegalArgumentException("audit max file size must be at least " + MIN_FILE_BYTES + " bytes");
        }
        Objects.requireNonNull(rotationInterval, "rotationInterval");
        if (rotationInterval.isNegative() || rotationInterval.isZero()) {
            throw new IllegalArgumentException("audit rotation interval must be positive");
        }
        if (queueCapacity < 1) {
            throw new IllegalArgumentException("audit queue capacity must be positive");
        }
        Objects.requireNonNull(sync, "sync");
        Objects.requireNonNull(retryInterval, "retryInterval");
        if (retryInterval.isNegative() || retryInterval.isZero()) {
            throw new IllegalArgumentException("audit retry interval must be positive");
        }
    }

    public static AuditConfig defaults(Path directory) {
        return new AuditConfig(directory, null, DEFAULT_MAX_FILE_BYTES, DEFAULT_ROTATION_INTERVAL, false,
                DEFAULT_QUEUE_CAPACITY, Sync.BATCH, DEFAULT_RETRY_INTERVAL);
    }

    public AuditConfig withHmacKeyFile(Path keyFile) {
        return new AuditConfig(directory, keyFile, maxFileBytes, rotationInterval, failClosed, queueCapacity, sync,
                retryInterval);
    }

    public AuditConfig withMaxFileBytes(long bytes) {
        return new AuditConfig(directory, hmacKeyFile, bytes, rotationInterval, failClosed, queueCapacity, sync,
                retryInterval);
    }

    public AuditConfig withRotationInterval(Duration interval) {
        return new AuditConfig(directory, hmacKeyFile, maxFileBytes, interval, failClosed, queueCapacity, sync,
                retryInterval);
    }

    public AuditConfig withFailClosed(boolean refuse) {
        return new AuditConfig(directory, hmacKeyFile, maxFileBytes, rotationInterval, refuse, queueCapacity, sync,
                retryInterval);
    }

    public AuditConfig withQueueCapacity(int capacity) {
        return new AuditConfig(directory, hmacKeyFile, maxFileBytes, rotationInterval, failClosed, capacity, sync,
                retryInterval);
    }

    public AuditConfig withSync(Sync policy) {
        return new AuditConfig(directory, hmacKeyFile, maxFileBytes, rotationInterval, failClosed, queueCapacity,
                policy, retryInterval);
    }

    public AuditConfig withRetryInterval(Duration interval) {
        return new AuditConfig(directory, hmacKeyFile, maxFileBytes, rotationInterval, failClosed, queueCapacity,
                sync, interval);
    }
}
