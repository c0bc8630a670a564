package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;

/**
 * BackendKeyData (B): the cancellation key for this session.
 * <pre>
 * Byte1('K')
 * Int32(12)  length
 * Int32      process ID of this backend
 * Int32      secret key (protocol 3.0; 3.2 makes it variable-length, which the proxy does not
 *            negotiate)
 * </pre>
 * The secret key lets anyone cancel the session's queries, so {@link #toString()} hides it.
 */
public record BackendKeyData(int processId, int secretKey) implements BackendMessage {
    public static final char TYPE = 'K';

    @Override
    public void encode(ByteBuf out) {
        out.writeByte(TYPE);
        out.writeInt(12);
        out.writeInt(processId);
        out.writeInt(secretKey);
    }

    static BackendKeyData read(WireReader body) {
        int processId = body.readInt32("process ID");
        int secretKey = body.readInt32("secret key");
        body.expectEnd();
        return new BackendKeyData(processId, secretKey);
    }

    @Override
    public String toString() {
        return "BackendKeyData[processId=" + processId + ", secretKey=<redacted>]";
    }
}
