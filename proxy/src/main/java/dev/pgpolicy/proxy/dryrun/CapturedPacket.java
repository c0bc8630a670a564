package dev.pgpolicy.proxy.dryrun;

import java.time.Instant;

/**
 * One link-layer frame from a capture file. {@code data} may be shorter than the frame was on the
 * wire ({@code originalLength}) when the capture's snap length cut it. A class rather than a
 * record: it carries a byte array, which a record would compare by identity.
 */
final class CapturedPacket {
    private final long fileOffset;
    private final int linkType;
    private final Instant time;
    private final byte[] data;
    private final int originalLength;

    /** @param fileOffset where the packet's record starts in the file, for error messages */
    CapturedPacket(long fileOffset, int linkType, Instant time, byte[] data, int originalLength) {
        this.fileOffset = fileOffset;
        this.linkType = linkType;
        this.time = time;
        this.data = data;
        this.originalLength = originalLength;
    }

    long fileOffset() {
        return fileOffset;
    }

    int linkType() {
        return linkType;
    }

    Instant time() {
        return time;
    }

    /** The captured bytes, not copied: the packet is handed from the reader to the decoder and then dropped. */
    byte[] data() {
        return data;
    }

    int originalLength() {
        return originalLength;
    }
}
