package dev.pgpolicy.proxy.config;

import java.util.Arrays;

/** Key material read from a file, as the audit chain key and the masking key files hold it. */
public final class KeyFiles {
    private KeyFiles() {
    }

    /**
     * The file's bytes are the key, minus one trailing newline ({@code \n} or {@code \r\n}), so
     * that {@code openssl rand -hex 32 > key} gives a usable 64-byte key. {@code raw} is wiped.
     */
    public static byte[] keyBytes(byte[] raw) {
        int length = raw.length;
        if (length > 0 && raw[length - 1] == '\n') {
            length--;
            if (length > 0 && raw[length - 1] == '\r') {
                length--;
            }
        }
        byte[] key = Arrays.copyOf(raw, length);
        Arrays.fill(raw, (byte) 0);
        return key;
    }
}
