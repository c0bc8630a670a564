package dev.pgpolicy.proxy.audit;

import java.util.Locale;

/**
 * The first record of every audit file, written by the log: why the file was started, which file
 * holds the record its {@code prev} chains to, the interrupted write it closes off, and how many
 * records were refused or failed since the previous {@code log_start}.
 */
record LogStart(Reason reason, String prevFile, Torn torn, long lost, String detail) {
    enum Reason {
        /** No earlier file: the chain starts at the genesis value. */
        NEW_LOG,
        /** The previous file reached {@code max_file_bytes}. */
        ROTATION_SIZE,
        /** The previous file reached {@code rotation_interval}. */
        ROTATION_TIME,
        /** The writer started again over an existing log. */
        RESTART,
        /** The writer resumed after an I/O error. */
        RECOVERY;

        String jsonName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }
}
