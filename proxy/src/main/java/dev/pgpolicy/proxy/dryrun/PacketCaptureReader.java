package dev.pgpolicy.proxy.dryrun;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Reads the packets of a libpcap file or of a pcapng file, as tcpdump writes them.
 *
 * <p>libpcap ("PCAP Capture File Format", draft-ietf-opsawg-pcap): a 24-byte header whose magic
 * number gives the byte order and the timestamp resolution (0xA1B2C3D4 microseconds, 0xA1B23C4D
 * nanoseconds), then records of a 16-byte header (seconds, fraction, captured length, original
 * length) and the captured bytes.
 *
 * <p>pcapng (draft-ietf-opsawg-pcapng): blocks of type, total length, body, total length again.
 * A Section Header Block (0x0A0D0D0A) sets the byte order for its section through its byte-order
 * magic 0x1A2B3C4D and resets the interface list; each Interface Description Block (1) gives an
 * interface's link type and timestamp resolution ({@code if_tsresol}, option 9, default 10^-6 s);
 * Enhanced (6), Simple (3) and the obsolete Packet (2) blocks carry packets. Other blocks are
 * skipped by their length.
 *
 * <p>A file that ends inside a record, or whose framing cannot be right, is reported with the
 * offset where the damage starts; every packet before it has been delivered.
 */
final class PacketCaptureReader {
    static final int PCAP_MAGIC_MICROS = 0xA1B2C3D4;
    static final int PCAP_MAGIC_NANOS = 0xA1B23C4D;
    static final int PCAPNG_SECTION_HEADER = 0x0A0D0D0A;
    private static final int PCAPNG_BYTE_ORDER_MAGIC = 0x1A2B3C4D;
    private static final int PCAPNG_INTERFACE_DESCRIPTION = 1;
    private static final int PCAPNG_OBSOLETE_PACKET = 2;
    private static final int PCAPNG_SIMPLE_PACKET = 3;
    private static final int PCAPNG_ENHANCED_PACKET = 6;
    private static final int PCAPNG_OPTION_TSRESOL = 9;
    /** No real link-layer frame is this large; a bigger length means the framing is broken (libpcap's own cap is 256 KiB). */
    private static final int MAX_PACKET_LENGTH = 16 * 1024 * 1024;
    private static final int MAX_BLOCK_LENGTH = MAX_PACKET_LENGTH + 1024;

    /** Raised for a damaged file; the packets before {@code offset} were delivered. */
    static final class DamagedCaptureException extends Exception {
        private final long offset;

        DamagedCaptureException(long offset, String message) {
            super(message);
            this.offset = offset;
        }

        long offset() {
            return offset;
        }
    }

    private final CountingInput in;
    private final Consumer<CapturedPacket> packets;

    private PacketCaptureReader(InputStream in, Consumer<CapturedPacket> packets) {
        this.in = new CountingInput(in);
        this.packets = packets;
    }

    /** Reads every packet of a libpcap or pcapng stream, telling the format by its magic number. */
    static void read(InputStream input, Consumer<CapturedPacket> packets) throws IOException, DamagedCaptureException {
        new PacketCaptureReader(input, packets).readFile();
    }

    private void readFile() throws IOException, DamagedCaptureException {
        byte[] magic = in.readOrEnd(4);
        if (magic == null) {
            throw new DamagedCaptureException(0, "empty file: no capture header");
        }
        int big = ByteBuffer.wrap(magic).order(ByteOrder.BIG_ENDIAN).getInt();
        int little = ByteBuffer.wrap(magic).order(ByteOrder.LITTLE_ENDIAN).getInt();
        if (big == PCAPNG_SECTION_HEADER) {
            readPcapng(magic);
        } else if (big == PCAP_MAGIC_MICROS || big == PCAP_MAGIC_NANOS) {
            readPcap(ByteOrder.BIG_ENDIAN, big == PCAP_MAGIC_NANOS);
        } else if (little == PCAP_MAGIC_MICROS || little == PCAP_MAGIC_NANOS) {
            readPcap(ByteOrder.LITTLE_ENDIAN, little == PCAP_MAGIC_NANOS);
        } else {
            throw new DamagedCaptureException(0, String.format("not a pcap or pcapng file (magic number %08x)", big));
        }
    }

    private void readPcap(ByteOrder order, boolean nanos) throws IOException, DamagedCaptureException {
        ByteBuffer header = ByteBuffer.wrap(in.readFully(20, "pcap file header")).order(order);
        header.getShort(); // version major
        header.getShort(); // version minor
        header.getInt(); // thiszone, always 0 in practice
        header.getInt(); // sigfigs
        header.getInt(); // snaplen
        // The link-type field also carries the FCS length in its upper bits (draft, "LinkType and additional information").
        int linkType = header.getInt() & 0x0FFF_FFFF;
        while (true) {
            long recordOffset = in.offset();
            byte[] recordHeader = in.readOrEnd(16);
            if (recordHeader == null) {
                return;
            }
            ByteBuffer record = ByteBuffer.wrap(recordHeader).order(order);
            long seconds = Integer.toUnsignedLong(record.getInt());
            long fraction = Integer.toUnsignedLong(record.getInt());
            int captured = record.getInt();
            int original = record.getInt();
            if (captured < 0 || captured > MAX_PACKET_LENGTH) {
                throw new DamagedCaptureException(recordOffset, "packet record with impossible captured length "
                        + Integer.toUnsignedString(captured));
            }
            byte[] data = in.readFully(captured, "packet record", recordOffset);
            Instant time = Instant.ofEpochSecond(seconds, nanos ? fraction : fraction * 1000);
            packets.accept(new CapturedPacket(recordOffset, linkType, time, data, Math.max(captured, original)));
        }
    }

    /** One pcapng interface: its link type and how many timestamp units make a second. */
    private record Interface(int linkType, long unitsPerSecond) {
    }

    private void readPcapng(byte[] firstType) throws IOException, DamagedCaptureException {
        ByteOrder order = ByteOrder.BIG_ENDIAN;
        List<Interface> interfaces = new ArrayList<>();
        byte[] type = firstType;
        while (type != null) {
            long blockOffset = in.offset() - 4;
            int blockType = ByteBuffer.wrap(type).order(order).getInt();
            byte[] lengthBytes = in.readFully(4, "block header", blockOffset);
            if (blockType == PCAPNG_SECTION_HEADER) {
                // 0x0A0D0D0A reads the same in either byte order. The byte-order magic that follows the length decides how this section (and its length) reads.
                byte[] byteOrderMagic = in.readFully(4, "section header", blockOffset);
                if (ByteBuffer.wrap(byteOrderMagic).order(ByteOrder.BIG_ENDIAN).getInt() == PCAPNG_BYTE_ORDER_MAGIC) {
                    order = ByteOrder.BIG_ENDIAN;
                } else if (ByteBuffer.wrap(byteOrderMagic).order(ByteOrder.LITTLE_ENDIAN).getInt() == PCAPNG_BYTE_ORDER_MAGIC) {
                    order = ByteOrder.LITTLE_ENDIAN;
                } else {
                    throw new DamagedCaptureException(blockOffset, "section header block without a valid byte-order magic");
                }
                int length = blockLength(lengthBytes, order, blockOffset, 28);
                in.readFully(length - 12 - 4, "section header", blockOffset);
                checkTrailer(order, length, blockOffset);
                interfaces.clear();
                type = in.readOrEnd(4);
                continue;
            }
            int length = blockLength(lengthBytes, order, blockOffset, 12);
            ByteBuffer body = ByteBuffer.wrap(in.readFully(length - 12, "block", blockOffset)).order(order);
            checkTrailer(order, length, blockOffset);
            switch (blockType) {
                case PCAPNG_INTERFACE_DESCRIPTION:
                    interfaces.add(readInterface(body, blockOffset));
                    break;
                case PCAPNG_ENHANCED_PACKET:
                case PCAPNG_OBSOLETE_PACKET:
                    readPacketBlock(blockType, body, interfaces, blockOffset);
                    break;
                case PCAPNG_SIMPLE_PACKET:
                    readSimplePacket(body, interfaces, blockOffset);
                    break;
                default:
                    break; // name resolution, statistics, custom blocks: nothing a dry-run needs
            }
            type = in.readOrEnd(4);
        }
    }

    private int blockLength(byte[] lengthBytes, ByteOrder order, long blockOffset, int minimum) throws DamagedCaptureException {
        int length = ByteBuffer.wrap(lengthBytes).order(order).getInt();
        if (length < minimum || length > MAX_BLOCK_LENGTH || length % 4 != 0) {
            throw new DamagedCaptureException(blockOffset, "block with impossible length " + Integer.toUnsignedString(length));
        }
        return length;
    }

    private void checkTrailer(ByteOrder order, int length, long blockOffset) throws IOException, DamagedCaptureException {
        int trailer = ByteBuffer.wrap(in.readFully(4, "block", blockOffset)).order(order).getInt();
        if (trailer != length) {
            throw new DamagedCaptureException(blockOffset, "block length " + length + " does not match its trailing copy "
                    + Integer.toUnsignedString(trailer));
        }
    }

    private static Interface readInterface(ByteBuffer body, long blockOffset) throws DamagedCaptureException {
        if (body.remaining() < 8) {
            throw new DamagedCaptureException(blockOffset, "interface description block too short");
        }
        int linkType = Short.toUnsignedInt(body.getShort());
        body.getShort(); // reserved
        body.getInt(); // snaplen
        long unitsPerSecond = 1_000_000;
        while (body.remaining() >= 4) {
            int code = Short.toUnsignedInt(body.getShort());
            int length = Short.toUnsignedInt(body.getShort());
            if (code == 0 || length > body.remaining()) {
                break; // opt_endofopt, or options that overrun the block: keep the default resolution
            }
            if (code == PCAPNG_OPTION_TSRESOL && length >= 1) {
                int resolution = body.get(body.position()) & 0xFF;
                int exponent = resolution & 0x7F;
                // High bit set: a power of two, otherwise a power of ten (pcapng, "if_tsresol").
                if ((resolution & 0x80) != 0) {
                    unitsPerSecond = exponent < 63 ? 1L << exponent : Long.MAX_VALUE;
                } else {
                    unitsPerSecond = exponent <= 18 ? pow10(exponent) : Long.MAX_VALUE;
                }
            }
            body.position(body.position() + ((length + 3) & ~3));
        }
        return new Interface(linkType, unitsPerSecond);
    }

    private void readPacketBlock(int blockType, ByteBuffer body, List<Interface> interfaces, long blockOffset)
            throws DamagedCaptureException {
        if (body.remaining() < 20) {
            throw new DamagedCaptureException(blockOffset, "packet block too short");
        }
        int interfaceId = blockType == PCAPNG_ENHANCED_PACKET ? body.getInt() : Short.toUnsignedInt(body.getShort());
        if (blockType == PCAPNG_OBSOLETE_PACKET) {
            body.getShort(); // drops count
        }
        long high = Integer.toUnsignedLong(body.getInt());
        long low = Integer.toUnsignedLong(body.getInt());
        int captured = body.getInt();
        int original = body.getInt();
        if (interfaceId < 0 || interfaceId >= interfaces.size()) {
            throw new DamagedCaptureException(blockOffset, "packet block for undeclared interface " + interfaceId);
        }
        if (captured < 0 || captured > body.remaining()) {
            throw new DamagedCaptureException(blockOffset, "packet block whose captured length "
                    + Integer.toUnsignedString(captured) + " exceeds the block");
        }
        byte[] data = new byte[captured];
        body.get(data);
        Interface link = interfaces.get(interfaceId);
        packets.accept(new CapturedPacket(blockOffset, link.linkType(), timestamp((high << 32) | low, link.unitsPerSecond()),
                data, Math.max(captured, original)));
    }

    private void readSimplePacket(ByteBuffer body, List<Interface> interfaces, long blockOffset) throws DamagedCaptureException {
        if (interfaces.isEmpty() || body.remaining() < 4) {
            throw new DamagedCaptureException(blockOffset, "simple packet block without an interface");
        }
        int original = body.getInt();
        // The captured length is implied: the original length, cut to what the block holds.
        int captured = (int) Math.min(Integer.toUnsignedLong(original), body.remaining());
        byte[] data = new byte[captured];
        body.get(data);
        // A simple packet has no timestamp; the epoch marks it unknown rather than inventing one.
        packets.accept(new CapturedPacket(blockOffset, interfaces.get(0).linkType(), Instant.EPOCH, data,
                Math.max(captured, original)));
    }

    /** The instant of a pcapng timestamp; a value no clock can show (a damaged block) becomes the epoch. */
    private static Instant timestamp(long units, long unitsPerSecond) {
        long seconds = Long.divideUnsigned(units, unitsPerSecond);
        if (seconds < 0 || seconds > Instant.MAX.getEpochSecond()) {
            return Instant.EPOCH;
        }
        long remainder = Long.remainderUnsigned(units, unitsPerSecond);
        long nanos = unitsPerSecond >= 1_000_000_000L
                ? remainder / (unitsPerSecond / 1_000_000_000L)
                : remainder * (1_000_000_000L / unitsPerSecond);
        return Instant.ofEpochSecond(seconds, nanos);
    }

    private static long pow10(int exponent) {
        long value = 1;
        for (int i = 0; i < exponent; i++) {
            value *= 10;
        }
        return value;
    }

    /** An input stream that knows its offset and tells a clean end from a truncated record. */
    private static final class CountingInput {
        private final InputStream in;
        private long offset;

        CountingInput(InputStream in) {
            this.in = in;
        }

        long offset() {
            return offset;
        }

        /** The next {@code n} bytes, or null at a clean end of file (no byte left). */
        byte[] readOrEnd(int n) throws IOException, DamagedCaptureException {
            byte[] bytes = new byte[n];
            int read = in.readNBytes(bytes, 0, n);
            if (read == 0) {
                return null;
            }
            offset += read;
            if (read < n) {
                throw new DamagedCaptureException(offset - read, "file ends inside a record header (" + read + " of "
                        + n + " bytes)");
            }
            return bytes;
        }

        byte[] readFully(int n, String what) throws IOException, DamagedCaptureException {
            return readFully(n, what, offset);
        }

        /** As {@link #readFully(int, String)}, naming {@code reportedOffset} (where the record began) if the file ends. */
        byte[] readFully(int n, String what, long reportedOffset) throws IOException, DamagedCaptureException {
            long start = reportedOffset;
            byte[] bytes = new byte[n];
            int read = in.readNBytes(bytes, 0, n);
            offset += read;
            if (read < n) {
                throw new DamagedCaptureException(start, "file ends inside a " + what + " (" + read + " of " + n
                        + " bytes): the capture is truncated");
            }
            return bytes;
        }
    }
}
