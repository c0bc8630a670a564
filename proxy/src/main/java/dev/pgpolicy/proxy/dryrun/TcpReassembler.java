package dev.pgpolicy.proxy.dryrun;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Rebuilds the byte streams of TCP connections from captured segments, per direction and in
 * sequence order (RFC 9293, section 3.4), and hands the bytes to one {@link Listener} per
 * connection as soon as they are contiguous.
 *
 * <ul>
 * <li>Sequence numbers are compared modulo 2^32 against the last delivered position, so streams
 *     longer than 4 GiB and ISNs near the wrap are fine.</li>
 * <li>Retransmissions and overlaps: bytes already delivered are never delivered again; where two
 *     captured segments disagree about the same bytes, the first delivered wins.</li>
 * <li>Out-of-order segments wait until the hole before them is filled.</li>
 * <li>A hole that is never filled (the capture lost packets, or the snap length cut a segment)
 *     becomes a {@link Listener#gap}: when more than {@link #MAX_PENDING_BYTES} wait behind it,
 *     when the connection ends, or at the end of the capture. The listener must then resynchronise.</li>
 * <li>A direction whose SYN was not captured starts at its first segment with data, and the
 *     listener is told it joined mid-stream.</li>
 * <li>A SYN with a new initial sequence number on a known 4-tuple starts a new connection
 *     (port reuse); segments of a connection that ended are ignored.</li>
 * </ul>
 */
final class TcpReassembler {
    /** How much out-of-order data one direction may hold while waiting for a lost segment. */
    static final int MAX_PENDING_BYTES = 8 * 1024 * 1024;
    private static final int ACK = 0x10;

    /** Receives one connection's bytes, in order, per direction. */
    interface Listener {
        /**
         * The first bytes of a direction are about to arrive; {@code fromStart} is false when the
         * capture missed the start of the direction (no SYN), so the bytes begin mid-stream.
         */
        void start(Direction direction, boolean fromStart);

        void data(Direction direction, byte[] bytes, int offset, int length, Instant time);

        /** {@code missing} bytes of the direction were not captured; what follows is not contiguous with what came before. */
        void gap(Direction direction, long missing);

        void end();
    }

    /** One direction of a connection: who sends and who receives. */
    record Direction(Endpoint source, Endpoint destination) {
    }

    /**
     * What is known about a connection when its first segment arrives: its two ends and, when the
     * capture saw the handshake, the end that opened it (sent the SYN without ACK), or null.
     */
    record Opening(Endpoint source, Endpoint destination, Endpoint initiator) {
    }

    private record Key(Endpoint low, Endpoint high) {
        static Key of(Endpoint a, Endpoint b) {
            return compare(a, b) <= 0 ? new Key(a, b) : new Key(b, a);
        }

        private static int compare(Endpoint a, Endpoint b) {
            byte[] x = a.address().getAddress();
            byte[] y = b.address().getAddress();
            if (x.length != y.length) {
                return Integer.compare(x.length, y.length);
            }
            for (int i = 0; i < x.length; i++) {
                int c = Integer.compare(x[i] & 0xFF, y[i] & 0xFF);
                if (c != 0) {
                    return c;
                }
            }
            return Integer.compare(a.port(), b.port());
        }
    }

    private final Function<Opening, Listener> listeners;
    private final Map<Key, Connection> open = new HashMap<>();
    private final Set<Key> closed = new HashSet<>();

    TcpReassembler(Function<Opening, Listener> listeners) {
        this.listeners = Objects.requireNonNull(listeners, "listeners");
    }

    void accept(TcpSegment segment) {
        Endpoint source = new Endpoint(segment.sourceAddress(), segment.sourcePort());
        Endpoint destination = new Endpoint(segment.destinationAddress(), segment.destinationPort());
        Key key = Key.of(source, destination);
        Connection connection = open.get(key);
        boolean opening = segment.syn() && (segment.flags() & ACK) == 0;
        if (connection != null && opening && connection.isNewIsn(source, segment.sequence())) {
            connection.finish();
            open.remove(key);
            connection = null;
        }
        if (connection == null) {
            if (closed.contains(key) && !opening) {
                return; // a late retransmission or the last ACKs of a connection that ended
            }
            closed.remove(key);
            if (!opening && !segment.syn() && segment.payload().length == 0 && segment.payloadLength() == 0) {
                return; // bare ACKs or FINs of a connection whose data we never saw
            }
            Endpoint initiator = opening ? source : segment.syn() ? destination : null;
            connection = new Connection(listeners.apply(new Opening(source, destination, initiator)));
            open.put(key, connection);
        }
        connection.accept(source, destination, segment);
        if (connection.ended()) {
            connection.finish();
            open.remove(key);
            closed.add(key);
        }
    }

    /** The capture is over: every connection still open flushes what it holds (with gaps) and ends. */
    void finish() {
        for (Connection connection : new ArrayList<>(open.values())) {
            connection.finish();
        }
        open.clear();
    }

    private static final class Connection {
        private final Listener listener;
        private final Map<Endpoint, Stream> streams = new HashMap<>(4);
        private boolean reset;
        private boolean finished;

        Connection(Listener listener) {
            this.listener = listener;
        }

        boolean isNewIsn(Endpoint source, long sequence) {
            Stream stream = streams.get(source);
            return stream != null && (!stream.synSeen || stream.isn != sequence);
        }

        void accept(Endpoint source, Endpoint destination, TcpSegment segment) {
            Stream stream = streams.computeIfAbsent(source, s -> new Stream(new Direction(source, destination)));
            if (segment.rst()) {
                reset = true;
                return;
            }
            stream.accept(segment, listener);
        }

        boolean ended() {
            if (reset) {
                return true;
            }
            if (streams.size() < 2) {
                return false;
            }
            for (Stream stream : streams.values()) {
                if (!stream.complete()) {
                    return false;
                }
            }
            return true;
        }

        void finish() {
            if (finished) {
                return;
            }
            finished = true;
            for (Stream stream : streams.values()) {
                stream.flush(listener);
            }
            listener.end();
        }
    }

    /** One direction's reassembly state; positions are 64-bit offsets derived from 32-bit sequence numbers. */
    private static final class Stream {
        private final Direction direction;
        private boolean synSeen;
        private long isn;
        private boolean started;
        /** Sequence number and offset of the next byte to deliver; offsets of other segments are taken relative to it. */
        private long nextSequence;
        private long nextOffset;
        private long finOffset = -1;
        private final TreeMap<Long, TcpSegment> pending = new TreeMap<>();
        private long pendingBytes;

        Stream(Direction direction) {
            this.direction = direction;
        }

        private long offsetOf(long sequence) {
            return nextOffset + (int) (sequence - nextSequence); // signed difference modulo 2^32
        }

        void accept(TcpSegment segment, Listener listener) {
            long dataSequence = segment.sequence();
            if (segment.syn()) {
                if (!started) {
                    synSeen = true;
                    isn = segment.sequence();
                    started = true;
                    nextSequence = (isn + 1) & 0xFFFF_FFFFL;
                    nextOffset = 0;
                    listener.start(direction, true);
                }
                dataSequence = (segment.sequence() + 1) & 0xFFFF_FFFFL; // the SYN occupies one sequence number
            }
            if (!started) {
                if (segment.payloadLength() == 0) {
                    if (segment.fin()) {
                        started = true;
                        nextSequence = segment.sequence();
                        finOffset = 0;
                    }
                    return;
                }
                started = true;
                nextSequence = segment.sequence();
                nextOffset = 0;
                listener.start(direction, false);
            }
            long offset = offsetOf(dataSequence);
            if (segment.fin()) {
                finOffset = offset + segment.payloadLength();
            }
            if (segment.payloadLength() == 0) {
                return;
            }
            if (offset + segment.payloadLength() <= nextOffset) {
                return; // retransmission of bytes already delivered
            }
            if (offset <= nextOffset) {
                deliver(offset, segment, listener);
                drain(listener);
            } else {
                TcpSegment previous = pending.get(offset);
                if (previous == null || previous.payloadLength() < segment.payloadLength()) {
                    pending.put(offset, segment);
                    pendingBytes += segment.payloadLength() - (previous == null ? 0 : previous.payloadLength());
                }
                while (pendingBytes > MAX_PENDING_BYTES && !pending.isEmpty()) {
                    skipToFirstPending(listener);
                }
            }
        }

        /** Delivers the part of a segment (starting at {@code offset} <= nextOffset) that is new. */
        private void deliver(long offset, TcpSegment segment, Listener listener) {
            long end = offset + segment.payloadLength();
            if (end <= nextOffset) {
                return;
            }
            int skip = (int) (nextOffset - offset);
            int captured = segment.payload().length;
            if (skip < captured) {
                listener.data(direction, segment.payload(), skip, captured - skip, segment.time());
            }
            long capturedEnd = offset + captured;
            if (capturedEnd < end) {
                // The snap length cut the segment: the rest of it is a gap.
                listener.gap(direction, end - Math.max(capturedEnd, nextOffset));
            }
            nextSequence = (nextSequence + (end - nextOffset)) & 0xFFFF_FFFFL;
            nextOffset = end;
        }

        private void drain(Listener listener) {
            while (!pending.isEmpty() && pending.firstKey() <= nextOffset) {
                Map.Entry<Long, TcpSegment> first = pending.pollFirstEntry();
                pendingBytes -= first.getValue().payloadLength();
                deliver(first.getKey(), first.getValue(), listener);
            }
        }

        private void skipToFirstPending(Listener listener) {
            long first = pending.firstKey();
            listener.gap(direction, first - nextOffset);
            nextSequence = (nextSequence + (first - nextOffset)) & 0xFFFF_FFFFL;
            nextOffset = first;
            drain(listener);
        }

        /** Whether the direction's FIN was seen and every byte before it delivered. */
        boolean complete() {
            return finOffset >= 0 && nextOffset >= finOffset && pending.isEmpty();
        }

        void flush(Listener listener) {
            while (!pending.isEmpty()) {
                skipToFirstPending(listener);
            }
            if (finOffset > nextOffset) {
                listener.gap(direction, finOffset - nextOffset);
                nextOffset = finOffset;
            }
        }
    }
}
