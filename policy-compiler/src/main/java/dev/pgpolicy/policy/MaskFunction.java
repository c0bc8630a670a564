package dev.pgpolicy.policy;

import java.util.Locale;
import java.util.Optional;

/**
 * The mask functions, ordered from least to most revealing-proof. When several mask rules apply
 * to one column the most restrictive wins: a value that is gone ({@code null}) reveals less than
 * a constant ({@code redact}), a keyed token ({@code hash}) or a partial value.
 */
public enum MaskFunction {
    EMAIL(0, 0), PARTIAL(3, 3), REGEX(2, 2), HASH(0, 0), REDACT(0, 1), NULL(0, 0);

    private final int minArguments;
    private final int maxArguments;

    MaskFunction(int minArguments, int maxArguments) {
        this.minArguments = minArguments;
        this.maxArguments = maxArguments;
    }

    public String keyword() {
        return name().toLowerCase(Locale.ROOT);
    }

    int minArguments() {
        return minArguments;
    }

    int maxArguments() {
        return maxArguments;
    }

    public static Optional<MaskFunction> fromKeyword(String keyword) {
        for (MaskFunction function : values()) {
            if (function.keyword().equals(keyword)) {
                return Optional.of(function);
            }
        }
        return Optional.empty();
    }
}
