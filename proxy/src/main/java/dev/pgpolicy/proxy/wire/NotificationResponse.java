package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;

/**
 * NotificationResponse (B): a NOTIFY delivered to a session that LISTENs on the channel; may
 * arrive at any time, even between other messages of a query cycle.
 * <pre>
 * Byte1('A')
 * Int32   length
 * Int32   process ID of the notifying backend
 * String  channel name
 * String  payload ("" when none was given)
 * </pre>
 */
public record NotificationResponse(int processId, String channel, String payload) implements BackendMessage {
    public static final char TYPE = 'A';

    public NotificationResponse {
        Checks.cString(channel, "channel");
        Checks.cString(payload, "payload");
    }

    @Override
    public void encode(ByteBuf out) {
        int lengthIndex = WireWriter.beginFrame(out, TYPE);
        out.writeInt(processId);
        WireWriter.writeCString(out, channel);
        WireWriter.writeCString(out, payload);
        WireWriter.endFrame(out, lengthIndex);
    }

    static NotificationResponse read(WireReader body) {
        int processId = body.readInt32("process ID");
        String channel = body.readCString("channel name");
        String payload = body.readCString("payload");
        body.expectEnd();
        return new NotificationResponse(processId, channel, payload);
    }
}
