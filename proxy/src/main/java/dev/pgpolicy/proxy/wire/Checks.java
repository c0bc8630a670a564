package dev.pgpolicy.proxy.wire;

import java.util.List;
import java.util.Objects;

/** Argument checks shared by the message records' compact constructors. */
final class Checks {
    /** Counts the protocol writes as Int16 and PostgreSQL reads unsigned. */
    static final int MAX_COUNT16 = 0xFFFF;

    private Checks() {
    }

    /** A string sent as a C-string: no NUL inside, or the receiver would cut it short. */
    static String cString(String value, String name) {
        Objects.requireNonNull(value, name);
        if (value.indexOf('\0') >= 0) {
            throw new IllegalArgumentException(name + " must not contain a NUL character");
        }
        return value;
    }

    static int int16(int value, String name) {
        if (value < Short.MIN_VALUE || value > Short.MAX_VALUE) {
            throw new IllegalArgumentException(name + " " + value + " does not fit in an Int16");
        }
        return value;
    }

    static <T> List<T> count16(List<T> values, String name) {
        List<T> copy = List.copyOf(Objects.requireNonNull(values, name));
        if (copy.size() > MAX_COUNT16) {
            throw new IllegalArgumentException(name + " has " + copy.size() + " entries; at most " + MAX_COUNT16);
        }
        return copy;
    }

    static List<Integer> int16List(List<Integer> values, String name) {
        List<Integer> copy = count16(values, name);
        for (Integer value : copy) {
            int16(value, name + " entry");
        }
        return copy;
    }
}
