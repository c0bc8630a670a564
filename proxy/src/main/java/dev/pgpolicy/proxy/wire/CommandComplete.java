package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;

/**
 * CommandComplete (B): a statement finished.
 * <pre>
 * Byte1('C')
 * Int32   length
 * String  command tag, e.g. "SELECT 5", "INSERT 0 1", "UPDATE 3", "BEGIN"
 * </pre>
 */
public record CommandComplete(String tag) implements BackendMessage {
    public static final char TYPE = 'C';

    public CommandComplete {
        Checks.cString(tag, "tag");
    }

    @Override
    public void encode(ByteBuf out) {
        int lengthIndex = WireWriter.beginFrame(out, TYPE);
        WireWriter.writeCString(out, tag);
        WireWriter.endFrame(out, lengthIndex);
    }

    static CommandComplete read(WireReader body) {
        String tag = body.readCString("command tag");
        body.expectEnd();
        return new CommandComplete(tag);
    }
}
