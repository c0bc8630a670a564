package dev.pgpolicy.proxy.server;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

/**
 * One corruption of a recorded session, applied at message granularity so that length words can
 * be hit precisely. Positions are drawn unbounded and reduced modulo the session's size when
 * applied, so one mutation fits every session.
 */
record SessionMutation(Kind kind, int position, int value) {

    enum Kind {
        FLIP_BIT,
        /** The session ends inside a message (or at its first byte). */
        TRUNCATE,
        /** One message's length word plus or minus one. */
        LENGTH_OFF_BY_ONE,
        /** One message's length word replaced by an extreme value. */
        HUGE_LENGTH,
        /** A message from another phase inserted before one of the session's messages. */
        WRONG_PHASE,
        DUPLICATE,
        DROP,
        SWAP_WITH_NEXT
    }

    private static final int[] EXTREME_LENGTHS = {
        -1, Integer.MIN_VALUE, 0, 3, 0x3FFF_FFFF, 0x4000_0000, 0x7FFF_FFFF, 10_001, 1 << 24
    };

    static Arbitrary<SessionMutation> mutations() {
        return Combinators.combine(
                        Arbitraries.of(Kind.class),
                        Arbitraries.integers().between(0, 1 << 20),
                        Arbitraries.integers().between(0, 1 << 20))
                .as(SessionMutation::new);
    }

    /**
     * Applies the mutation. A message starts with its length word when it is untyped (startup
     * packets, SSLRequest: their first byte is 0) and one byte later when it is typed.
     */
    List<byte[]> apply(List<byte[]> messages, List<byte[]> outOfPhase) {
        List<byte[]> out = new ArrayList<>(messages);
        if (out.isEmpty()) {
            return out;
        }
        int index = position % out.size();
        byte[] message = out.get(index);
        if (message.length < 5) {
            return out; // already cut short by an earlier mutation: nothing left to aim at
        }
        switch (kind) {
            case FLIP_BIT: {
                byte[] flipped = message.clone();
                flipped[value % flipped.length] ^= (byte) (1 << (value % 8));
                out.set(index, flipped);
                return out;
            }
            case TRUNCATE:
                out.set(index, Arrays.copyOf(message, value % message.length));
                return out.subList(0, index + 1);
            case LENGTH_OFF_BY_ONE: {
                int at = lengthOffset(message);
                int length = ByteBuffer.wrap(message, at, 4).getInt();
                out.set(index, withLength(message, at, length + (value % 2 == 0 ? 1 : -1)));
                return out;
            }
            case HUGE_LENGTH:
                out.set(index, withLength(message, lengthOffset(message), EXTREME_LENGTHS[value % EXTREME_LENGTHS.length]));
                return out;
            case WRONG_PHASE:
                out.add(index, outOfPhase.get(value % outOfPhase.size()));
                return out;
            case DUPLICATE:
                out.add(index, message);
                return out;
            case DROP:
                out.remove(index);
                return out;
            case SWAP_WITH_NEXT:
                if (index + 1 < out.size()) {
                    out.set(index, out.get(index + 1));
                    out.set(index + 1, message);
                }
                return out;
        }
        throw new AssertionError(kind);
    }

    private static int lengthOffset(byte[] message) {
        // Untyped packets begin with a length below 2^24, so their first byte is 0; no typed
        // message has type 0.
        return message[0] == 0 ? 0 : 1;
    }

    private static byte[] withLength(byte[] message, int at, int length) {
        byte[] out = message.clone();
        ByteBuffer.wrap(out, at, 4).putInt(length);
        return out;
    }
}
