package dev.pgpolicy.proxy.dryrun;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Optional;

/**
 * Peels a captured frame down to its TCP segment: the link layers tcpdump writes for PostgreSQL
 * traffic, IPv4 or IPv6, then TCP (RFC 9293, section 3.1). Anything else (ARP, UDP, IP fragments
 * after the first) is not PostgreSQL traffic or cannot be placed in a stream, and yields nothing;
 * a fragment's missing bytes then show up as a gap in its stream.
 */
final class PacketDecoder {
    /** LINKTYPE_NULL: BSD loopback, a 4-byte address family in the capturing host's byte order. */
    static final int LINKTYPE_NULL = 0;
    static final int LINKTYPE_ETHERNET = 1;
    /** LINKTYPE_RAW and its historical numbers: the packet starts with the IP header. */
    static final int LINKTYPE_RAW = 101;
    private static final int DLT_RAW_12 = 12;
    private static final int DLT_RAW_14 = 14;
    /** LINKTYPE_LOOP: OpenBSD loopback, the address family in network byte order. */
    static final int LINKTYPE_LOOP = 108;
    static final int LINKTYPE_LINUX_SLL = 113;
    static final int LINKTYPE_IPV4 = 228;
    static final int LINKTYPE_IPV6 = 229;
    static final int LINKTYPE_LINUX_SLL2 = 276;

    private static final int ETHERTYPE_IPV4 = 0x0800;
    private static final int ETHERTYPE_IPV6 = 0x86DD;
    private static final int ETHERTYPE_VLAN = 0x8100;
    private static final int ETHERTYPE_QINQ = 0x88A8;
    private static final int IP_PROTOCOL_TCP = 6;

    private PacketDecoder() {
    }

    static boolean supportsLinkType(int linkType) {
        switch (linkType) {
            case LINKTYPE_NULL:
            case LINKTYPE_ETHERNET:
            case LINKTYPE_RAW:
            case DLT_RAW_12:
            case DLT_RAW_14:
            case LINKTYPE_LOOP:
            case LINKTYPE_LINUX_SLL:
            case LINKTYPE_IPV4:
            case LINKTYPE_IPV6:
            case LINKTYPE_LINUX_SLL2:
                return true;
            default:
                return false;
        }
    }

    static Optional<TcpSegment> decode(CapturedPacket packet) {
        ByteBuffer frame = ByteBuffer.wrap(packet.data()).order(ByteOrder.BIG_ENDIAN);
        try {
            int networkStart;
            switch (packet.linkType()) {
                case LINKTYPE_ETHERNET:
                    networkStart = ethernetPayload(frame);
                    break;
                case LINKTYPE_LINUX_SLL:
                    // 16-byte header; the protocol (an EtherType) is its last field.
                    networkStart = isIp(frame.getShort(14) & 0xFFFF) ? 16 : -1;
                    break;
                case LINKTYPE_LINUX_SLL2:
                    // 20-byte header; the protocol is its first field.
                    networkStart = isIp(frame.getShort(0) & 0xFFFF) ? 20 : -1;
                    break;
                case LINKTYPE_NULL:
                case LINKTYPE_LOOP:
                    // Address family values differ between systems (AF_INET6 is 10, 24, 28 or 30);
                    // the IP version nibble that follows decides.
                    networkStart = 4;
                    break;
                case LINKTYPE_RAW:
                case DLT_RAW_12:
                case DLT_RAW_14:
                case LINKTYPE_IPV4:
                case LINKTYPE_IPV6:
                    networkStart = 0;
                    break;
                default:
                    return Optional.empty();
            }
            if (networkStart < 0 || networkStart >= frame.limit()) {
                return Optional.empty();
            }
            return ip(packet, frame, networkStart);
        } catch (IndexOutOfBoundsException | UnknownHostException e) {
            return Optional.empty(); // cut before the TCP header: no stream position to place it at
        }
    }

    private static boolean isIp(int etherType) {
        return etherType == ETHERTYPE_IPV4 || etherType == ETHERTYPE_IPV6;
    }

    private static int ethernetPayload(ByteBuffer frame) {
        int offset = 12;
        int etherType = frame.getShort(offset) & 0xFFFF;
        while (etherType == ETHERTYPE_VLAN || etherType == ETHERTYPE_QINQ) {
            offset += 4;
            etherType = frame.getShort(offset) & 0xFFFF;
        }
        return isIp(etherType) ? offset + 2 : -1;
    }

    private static Optional<TcpSegment> ip(CapturedPacket packet, ByteBuffer frame, int start) throws UnknownHostException {
        int version = (frame.get(start) & 0xF0) >>> 4;
        InetAddress source;
        InetAddress destination;
        int tcpStart;
        int ipEnd;
        if (version == 4) {
            int headerLength = (frame.get(start) & 0x0F) * 4;
            int totalLength = frame.getShort(start + 2) & 0xFFFF;
            int fragment = frame.getShort(start + 6) & 0xFFFF;
            boolean moreFragments = (fragment & 0x2000) != 0;
            int fragmentOffset = fragment & 0x1FFF;
            if (frame.get(start + 9) != IP_PROTOCOL_TCP || headerLength < 20 || moreFragments || fragmentOffset != 0) {
                return Optional.empty();
            }
            source = InetAddress.getByAddress(slice(frame, start + 12, 4));
            destination = InetAddress.getByAddress(slice(frame, start + 16, 4));
            tcpStart = start + headerLength;
            // With TSO/GRO a locally captured packet can carry a total length of 0; the frame then decides.
            ipEnd = totalLength == 0 ? packet.originalLength() : start + totalLength;
        } else if (version == 6) {
            int payloadLength = frame.getShort(start + 4) & 0xFFFF;
            int nextHeader = frame.get(start + 6) & 0xFF;
            source = InetAddress.getByAddress(slice(frame, start + 8, 16));
            destination = InetAddress.getByAddress(slice(frame, start + 24, 16));
            int offset = start + 40;
            // Skip extension headers (RFC 8200, section 4); a fragment header means no usable TCP header here.
            while (nextHeader == 0 || nextHeader == 43 || nextHeader == 60 || nextHeader == 51) {
                int length = nextHeader == 51 ? ((frame.get(offset + 1) & 0xFF) + 2) * 4 : ((frame.get(offset + 1) & 0xFF) + 1) * 8;
                nextHeader = frame.get(offset) & 0xFF;
                offset += length;
            }
            if (nextHeader != IP_PROTOCOL_TCP) {
                return Optional.empty();
            }
            tcpStart = offset;
            ipEnd = payloadLength == 0 ? packet.originalLength() : start + 40 + payloadLength;
        } else {
            return Optional.empty();
        }
        int sourcePort = frame.getShort(tcpStart) & 0xFFFF;
        int destinationPort = frame.getShort(tcpStart + 2) & 0xFFFF;
        long sequence = Integer.toUnsignedLong(frame.getInt(tcpStart + 4));
        int dataOffset = ((frame.get(tcpStart + 12) & 0xF0) >>> 4) * 4;
        int flags = frame.get(tcpStart + 13) & 0xFF;
        if (dataOffset < 20) {
            return Optional.empty();
        }
        int payloadStart = tcpStart + dataOffset;
        // Ethernet pads short frames: the IP length, not the frame, says where the segment ends;
        // the capture may have kept less than that (snap length), and the rest is a gap.
        int payloadLength = Math.max(0, ipEnd - payloadStart);
        int capturedEnd = Math.min(ipEnd, frame.limit());
        byte[] payload = payloadStart < capturedEnd
                ? Arrays.copyOfRange(packet.data(), payloadStart, capturedEnd)
                : new byte[0];
        return Optional.of(new TcpSegment(packet.time(), source, sourcePort, destination,
                destinationPort, sequence, flags, payload, payloadLength));
    }

    private static byte[] slice(ByteBuffer frame, int offset, int length) {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = frame.get(offset + i);
        }
        return bytes;
    }
}
