package dev.pgpolicy.proxy.identity;

/**
 * A credential held in memory (an upstream account's password). It never appears in
 * {@code toString}, logs or exceptions; {@link #reveal()} hands out a copy the caller wipes.
 */
public final class Secret {
    private final char[] value;

    Secret(char[] value) {
        this.value = value.clone();
    }

    /** A copy of the secret; wipe it with {@code Arrays.fill(copy, '\0')} after use. */
    public char[] reveal() {
        return value.clone();
    }

    /** Equal content, compared without an early exit on the first difference. */
    @Override
    public boolean equals(Object other) {
        if (!(other instanceof Secret that) || value.length != that.value.length) {
            return false;
        }
        int difference = 0;
        for (int i = 0; i < value.length; i++) {
            difference |= value[i] ^ that.value[i];
        }
        return difference == 0;
    }

    @Override
    public int hashCode() {
        // Constant: a hash of the secret would be a small leak, and secrets are never map keys.
        return 0;
    }

    @Override
    public String toString() {
        return "<secret>";
    }
}
