package dev.pgpolicy.proxy.dryrun;

import dev.pgpolicy.proxy.wire.WireMessage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Hand-built capture files: TCP segments wrapped in the link layers tcpdump writes, in libpcap and
 * pcapng containers, byte by byte as the formats specify, so the reader is tested against bytes
 * it did not produce.
 */
final class CaptureFiles {
    static final byte[] CLIENT_V4 = {127, 0, 0, 1};
    static final byte[] SERVER_V4 = {127, 0, 0, 2};
    static final int SYN = 0x02;
    static final int ACK = 0x10;
    static final int PSH_ACK = 0x18;
    static final int FIN_ACK = 0x11;

    private CaptureFiles() {
    }

    /** One captured frame: link type, time, bytes. */
    record Frame(int linkType, Instant time, byte[] bytes, int originalLength) {
        Frame(int linkType, Instant time, byte[] bytes) {
            this(linkType, time, bytes, bytes.length);
        }
    }

    static byte[] wire(WireMessage... messages) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (WireMessage message : messages) {
            ByteBuf buffer = Unpooled.buffer();
            try {
                message.encode(buffer);
                byte[] bytes = new byte[buffer.readableBytes()];
                buffer.readBytes(bytes);
                out.writeBytes(bytes);
            } finally {
                buffer.release();
            }
        }
        return out.toByteArray();
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    /** A TCP segment (RFC 9293 header without options) inside IPv4 (RFC 791), checksums zero as with offloading. */
    static byte[] ipv4Tcp(byte[] source, int sourcePort, byte[] destination, int destinationPort, long sequence, int flags,
                          byte[] payload) {
        ByteBuffer packet = ByteBuffer.allocate(20 + 20 + payload.length).order(ByteOrder.BIG_ENDIAN);
        packet.put((byte) 0x45).put((byte) 0).putShort((short) (40 + payload.length)).putShort((short) 1)
                .putShort((short) 0x4000).put((byte) 64).put((byte) 6).putShort((short) 0).put(source).put(destination);
        tcp(packet, sourcePort, destinationPort, sequence, flags, payload);
        return packet.array();
    }

    static byte[] ipv6Tcp(byte[] source, int sourcePort, byte[] destination, int destinationPort, long sequence, int flags,
                          byte[] payload) {
        ByteBuffer packet = ByteBuffer.allocate(40 + 20 + payload.length).order(ByteOrder.BIG_ENDIAN);
        packet.putInt(0x6000_0000).putShort((short) (20 + payload.length)).put((byte) 6).put((byte) 64)
                .put(source).put(destination);
        tcp(packet, sourcePort, destinationPort, sequence, flags, payload);
        return packet.array();
    }

    private static void tcp(ByteBuffer packet, int sourcePort, int destinationPort, long sequence, int flags, byte[] payload) {
        packet.putShort((short) sourcePort).putShort((short) destinationPort).putInt((int) sequence).putInt(0)
                .put((byte) 0x50).put((byte) flags).putShort((short) 65535).putShort((short) 0).putShort((short) 0)
                .put(payload);
    }

    /** Ethernet II (what tcpdump -i lo writes on Linux), with the minimum-frame padding a real NIC adds. */
    static byte[] ethernet(byte[] ipPacket, int etherType) {
        int length = Math.max(14 + ipPacket.length, 60);
        ByteBuffer frame = ByteBuffer.allocate(length);
        frame.put(new byte[12]).putShort((short) etherType).put(ipPacket);
        return frame.array();
    }

    /** LINKTYPE_LINUX_SLL2 (tcpdump -i any): protocol, reserved, interface index, ARPHRD, packet type, address. */
    static byte[] sll2(byte[] ipPacket, int etherType) {
        ByteBuffer frame = ByteBuffer.allocate(20 + ipPacket.length);
        frame.putShort((short) etherType).putShort((short) 0).putInt(1).putShort((short) 772).put((byte) 0).put((byte) 6)
                .put(new byte[8]).put(ipPacket);
        return frame.array();
    }

    /** LINKTYPE_LINUX_SLL (older tcpdump -i any): packet type, ARPHRD, address length, address, protocol. */
    static byte[] sll(byte[] ipPacket, int etherType) {
        ByteBuffer frame = ByteBuffer.allocate(16 + ipPacket.length);
        frame.putShort((short) 0).putShort((short) 772).putShort((short) 6).put(new byte[8]).putShort((short) etherType)
                .put(ipPacket);
        return frame.array();
    }

    /** LINKTYPE_NULL: the address family in the capturing host's (here little-endian) byte order. */
    static byte[] bsdLoopback(byte[] ipPacket, int family) {
        ByteBuffer frame = ByteBuffer.allocate(4 + ipPacket.length).order(ByteOrder.LITTLE_ENDIAN);
        frame.putInt(family).put(ipPacket);
        return frame.array();
    }

    /** A libpcap file, little-endian, microsecond timestamps. */
    static byte[] pcap(int linkType, List<Frame> frames) {
        ByteBuffer out = ByteBuffer.allocate(24 + frames.stream().mapToInt(f -> 16 + f.bytes().length).sum())
                .order(ByteOrder.LITTLE_ENDIAN);
        out.putInt(0xA1B2C3D4).putShort((short) 2).putShort((short) 4).putInt(0).putInt(0).putInt(262144).putInt(linkType);
        for (Frame frame : frames) {
            out.putInt((int) frame.time().getEpochSecond()).putInt(frame.time().getNano() / 1000)
                    .putInt(frame.bytes().length).putInt(frame.originalLength()).put(frame.bytes());
        }
        return out.array();
    }

    /**
     * A pcapng file, big-endian this time: a section header, one interface with nanosecond
     * timestamps ({@code if_tsresol} = 9), an unknown block to skip, and Enhanced Packet Blocks.
     */
    static byte[] pcapng(int linkType, List<Frame> frames) {
        List<byte[]> blocks = new ArrayList<>();
        blocks.add(block(0x0A0D0D0A, ByteBuffer.allocate(16).putInt(0x1A2B3C4D).putShort((short) 1).putShort((short) 0)
                .putLong(-1L).array()));
        ByteBuffer idb = ByteBuffer.allocate(8 + 8 + 4);
        idb.putShort((short) linkType).putShort((short) 0).putInt(262144)
                .putShort((short) 9).putShort((short) 1).put((byte) 9).put(new byte[3])
                .putShort((short) 0).putShort((short) 0);
        blocks.add(block(1, idb.array()));
        blocks.add(block(0x0BAD, new byte[] {1, 2, 3, 4}));
        for (Frame frame : frames) {
            long nanos = frame.time().getEpochSecond() * 1_000_000_000L + frame.time().getNano();
            int padded = (frame.bytes().length + 3) & ~3;
            ByteBuffer epb = ByteBuffer.allocate(20 + padded);
            epb.putInt(0).putInt((int) (nanos >>> 32)).putInt((int) nanos).putInt(frame.bytes().length)
                    .putInt(frame.originalLength()).put(frame.bytes());
            blocks.add(block(6, epb.array()));
        }
        return concat(blocks.toArray(new byte[0][]));
    }

    private static byte[] block(int type, byte[] body) {
        int padded = (body.length + 3) & ~3;
        int length = 12 + padded;
        ByteBuffer block = ByteBuffer.allocate(length);
        block.putInt(type).putInt(length).put(body).position(8 + padded);
        block.putInt(length);
        return block.array();
    }
}
