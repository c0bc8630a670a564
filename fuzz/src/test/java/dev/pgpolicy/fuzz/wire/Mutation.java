package dev.pgpolicy.fuzz.wire;

import java.util.Arrays;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

/**
 * One corruption of an encoded stream. Positions are generated unbounded and reduced modulo the
 * stream (or message) count when applied, so one mutation fits any stream.
 */
record Mutation(Kind kind, int position, int value) {

    enum Kind {
        FLIP_BIT,
        TRUNCATE,
        INSERT_BYTE,
        DELETE_BYTE,
        /** The length word of one message, plus or minus one. */
        LENGTH_OFF_BY_ONE,
        /** The length word of one message, replaced by an extreme value. */
        EXTREME_LENGTH,
        /** The type byte of one message, replaced. */
        RETYPE
    }

    private static final int[] EXTREME_LENGTHS = {
        0, 1, 3, 4, 5, 8, 9_999, 10_000, 10_001, 0x3FFF_FFFF, 0x4000_0000, 0x7FFF_FFFF, -1, Integer.MIN_VALUE
    };

    static Arbitrary<Mutation> mutations() {
        return Combinators.combine(
                Arbitraries.of(Kind.class),
                Arbitraries.integers().between(0, 1 << 20),
                Arbitraries.integers().between(0, 1 << 20))
                .as(Mutation::new);
    }

    /**
     * Applies the mutation. {@code offsets} are where messages start; {@code typed} says whether a
     * message starts with a type byte (typed frames) or directly with its length (startup packets).
     */
    byte[] apply(byte[] input, int[] offsets, boolean typed) {
        if (input.length == 0) {
            return kind == Kind.INSERT_BYTE ? new byte[] {(byte) value} : input;
        }
        int at = position % input.length;
        switch (kind) {
            case FLIP_BIT: {
                byte[] out = input.clone();
                out[at] ^= (byte) (1 << (value % 8));
                return out;
            }
            case TRUNCATE:
                return Arrays.copyOf(input, at);
            case INSERT_BYTE: {
                byte[] out = new byte[input.length + 1];
                System.arraycopy(input, 0, out, 0, at);
                out[at] = (byte) value;
                System.arraycopy(input, at, out, at + 1, input.length - at);
                return out;
            }
            case DELETE_BYTE: {
                byte[] out = new byte[input.length - 1];
                System.arraycopy(input, 0, out, 0, at);
                System.arraycopy(input, at + 1, out, at, input.length - at - 1);
                return out;
            }
            case LENGTH_OFF_BY_ONE: {
                int lengthAt = lengthIndex(offsets, typed);
                if (lengthAt + 4 > input.length) {
                    return input;
                }
                return withLength(input, lengthAt, readInt(input, lengthAt) + (value % 2 == 0 ? 1 : -1));
            }
            case EXTREME_LENGTH: {
                int lengthAt = lengthIndex(offsets, typed);
                if (lengthAt + 4 > input.length) {
                    return input;
                }
                return withLength(input, lengthAt, EXTREME_LENGTHS[value % EXTREME_LENGTHS.length]);
            }
            case RETYPE: {
                int typeAt = offsets.length == 0 ? 0 : offsets[position % offsets.length];
                if (typeAt >= input.length) {
                    return input;
                }
                byte[] out = input.clone();
                out[typeAt] = (byte) value;
                return out;
            }
            default:
                throw new AssertionError(kind);
        }
    }

    private int lengthIndex(int[] offsets, boolean typed) {
        int start = offsets.length == 0 ? 0 : offsets[position % offsets.length];
        return start + (typed ? 1 : 0);
    }

    private static int readInt(byte[] input, int at) {
        return ((input[at] & 0xFF) << 24) | ((input[at + 1] & 0xFF) << 16) | ((input[at + 2] & 0xFF) << 8)
                | (input[at + 3] & 0xFF);
    }

    private static byte[] withLength(byte[] input, int at, int length) {
        byte[] out = input.clone();
        out[at] = (byte) (length >>> 24);
        out[at + 1] = (byte) (length >>> 16);
        out[at + 2] = (byte) (length >>> 8);
        out[at + 3] = (byte) length;
        return out;
    }
}
