package dev.pgpolicy.proxy.dryrun;

import java.net.InetAddress;
import java.time.Instant;

/**
 * The TCP part of one captured packet. {@code payload} holds the bytes the capture kept; when the
 * snap length cut the packet, {@code payloadLength} (from the IP header) is larger and the missing
 * tail becomes a gap in the stream.
 */
record TcpSegment(Instant time, long fileOffset, InetAddress sourceAddress, int sourcePort,
                  InetAddress destinationAddress, int destinationPort, long sequence, int flags,
                  byte[] payload, int payloadLength) {
    static final int FIN = 0x01;
    static final int SYN = 0x02;
    static final int RST = 0x04;

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
