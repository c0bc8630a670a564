package dev.pgpolicy.proxy.audit;

import java.util.Objects;

/**
 * The bytes at the end of an audit file that are not part of the chain: {@code length} bytes from
 * {@code offset} (a line boundary) to the end of {@code file}, left by a write that a crash or an
 * I/O error interrupted. The first record of the next file names them, which is what makes them
 * an acknowledged tail rather than tampering.
 */
public record Torn(String file, long offset, long length) {
    public Torn {
        Objects.requireNonNull(file, "file");
        if (offset < 0 || length < 0) {
            throw new IllegalArgumentException("negative offset or length");
        }
    }
}
