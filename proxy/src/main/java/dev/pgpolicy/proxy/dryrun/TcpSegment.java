package dev.pgpolicy.proxy.dryrun;

import java.net.InetAddress;
import java.time.Instant;

/**
 * The TCP part of one captured packet. {@code payload} holds the bytes the capture kept; when the
 * snap length cut the packet, {@code payloadLength} (from the IP header) is larger and the missing
 * tail becomes a gap in the stream. A class rather than a record: it carries a byte array.
 */
final class TcpSegment {
    static final int FIN = 0x01;
    static final int SYN = 0x02;
    static final int RST = 0x04;

    private final Instant time;
    private final InetAddress sourceAddress;
    private final int sourcePort;
    private final InetAddress destinationAddress;
    private final int destinationPort;
    private final long sequence;
    private final int flags;
    private final byte[] payload;
    private final int payloadLength;

    TcpSegment(Instant time, InetAddress sourceAddress, int sourcePort, InetAddress destinationAddress, int destinationPort,
               long sequence, int flags, byte[] payload, int payloadLength) {
        this.time = time;
        this.sourceAddress = sourceAddress;
        this.sourcePort = sourcePort;
        this.destinationAddress = destinationAddress;
        this.destinationPort = destinationPort;
        this.sequence = sequence;
        this.flags = flags;
        this.payload = payload;
        this.payloadLength = payloadLength;
    }

    Instant time() {
        return time;
    }

    InetAddress sourceAddress() {
        return sourceAddress;
    }

    int sourcePort() {
        return sourcePort;
    }

    InetAddress destinationAddress() {
        return destinationAddress;
    }

    int destinationPort() {
        return destinationPort;
    }

    long sequence() {
        return sequence;
    }

    int flags() {
        return flags;
    }

    /** The captured payload, not copied: segments are owned by the reassembler once decoded. */
    byte[] payload() {
        return payload;
    }

    int payloadLength() {
        return payloadLength;
    }

    boolean syn() {
        return (flags & SYN) != 0;
    }

    boolean fin() {
        return (flags & FIN) != 0;
    }

    boolean rst() {
        return (flags & RST) != 0;
    }
}
