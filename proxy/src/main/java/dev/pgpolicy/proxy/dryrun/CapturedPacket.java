package dev.pgpolicy.proxy.dryrun;

import java.time.Instant;

/**
 * One link-layer frame from a capture file. {@code data} may be shorter than the frame was on the
 * wire ({@code originalLength}) when the capture's snap length cut it.
 *
 * @param fileOffset where the packet's record starts in the file, for error messages
 */
record CapturedPacket(long fileOffset, int linkType, Instant time, byte[] data, int originalLength) {
    boolean truncated() {
        return data.length < originalLength;
    }
}
