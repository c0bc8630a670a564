package dev.pgpolicy.policy;

import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A checked mask: the function and its arguments (strings and longs, already validated against
 * the function's signature). {@link #toString()} prints it as written in a policy, e.g.
 * {@code partial(0, "XXXX-", 4)}.
 */
public record MaskSpec(MaskFunction function, List<Object> arguments) {

    public static final String DEFAULT_REDACTION = "***";

    public MaskSpec {
        Objects.requireNonNull(function, "function");
        arguments = List.copyOf(arguments);
    }

    /**
     * The masked text of a text-typed value; null for {@code null()} and for {@code hash()},
     * whose keyed token needs the proxy's key ({@link #isKeyedHash()}).
     */
    public String applyToText(String value) {
        if (value == null) {
            return null;
        }
        switch (function) {
            case NULL:
            case HASH:
                return null;
            case REDACT:
                return arguments.isEmpty() ? DEFAULT_REDACTION : (String) arguments.get(0);
            case PARTIAL: {
                int keepFirst = (int) Math.min((Long) arguments.get(0), value.length());
                int keepLast = (int) Math.min((Long) arguments.get(2), value.length() - keepFirst);
                return value.substring(0, keepFirst) + arguments.get(1) + value.substring(value.length() - keepLast);
            }
            case EMAIL: {
                int at = value.lastIndexOf('@');
                if (at <= 0) {
                    return DEFAULT_REDACTION;
                }
                return value.charAt(0) + DEFAULT_REDACTION + value.substring(at);
            }
            case REGEX:
                // Compiled at policy compile time already, so this cannot fail on the pattern.
                return Pattern.compile((String) arguments.get(0)).matcher(value).replaceAll((String) arguments.get(1));
            default:
                throw new AssertionError("unhandled mask " + function);
        }
    }

    public boolean isKeyedHash() {
        return function == MaskFunction.HASH;
    }

    @Override
    public String toString() {
        return function.keyword() + "(" + arguments.stream()
                .map(a -> a instanceof String s ? '"' + s.replace("\\", "\\\\").replace("\"", "\\\"") + '"' : a.toString())
                .collect(Collectors.joining(", ")) + ")";
    }
}
