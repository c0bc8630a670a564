package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;

/**
 * CancelRequest (F): sent on a new connection to cancel the query running in another session.
 * <pre>
 * Int32(16)        length
 * Int32(80877102)  the cancel request code, 1234.5678
 * Int32            process ID of the target backend
 * Int32            secret key of the target backend
 * </pre>
 * The secret key is a credential (it lets anyone cancel the session's queries), so
 * {@link #toString()} hides it.
 */
public record CancelRequest(int processId, int secretKey) implements StartupPacket {

    @Override
    public void encode(ByteBuf out) {
        out.writeInt(16);
        out.writeInt(CANCEL_REQUEST_CODE);
        out.writeInt(processId);
        out.writeInt(secretKey);
    }

    @Override
    public String toString() {
        return "CancelRequest[processId=" + processId + ", secretKey=<redacted>]";
    }
}
