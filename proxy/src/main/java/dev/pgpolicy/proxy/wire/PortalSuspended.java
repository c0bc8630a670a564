package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;

/**
 * PortalSuspended (B): Execute stopped at its row limit; the portal can be executed again.
 * <pre>
 * Byte1('s')
 * Int32(4)  length
 * </pre>
 */
public record PortalSuspended() implements BackendMessage {
    public static final char TYPE = 's';
    public static final PortalSuspended INSTANCE = new PortalSuspended();

    @Override
    public void encode(ByteBuf out) {
        WireWriter.writeEmpty(out, TYPE);
    }
}
