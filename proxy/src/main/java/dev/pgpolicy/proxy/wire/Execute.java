package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;

/**
 * Execute (F): runs a portal.
 * <pre>
 * Byte1('E')
 * Int32   length
 * String  portal name ("" = the unnamed portal)
 * Int32   maximum number of rows to return (0 = no limit)
 * </pre>
 */
public record Execute(String portalName, int maxRows) implements FrontendMessage {
    public static final char TYPE = 'E';

    public Execute {
        Checks.cString(portalName, "portalName");
    }

    @Override
    public void encode(ByteBuf out) {
        int lengthIndex = WireWriter.beginFrame(out, TYPE);
        WireWriter.writeCString(out, portalName);
        out.writeInt(maxRows);
        WireWriter.endFrame(out, lengthIndex);
    }

    static Execute read(WireReader body) {
        String portal = body.readCString("portal name");
        int maxRows = body.readInt32("row limit");
        body.expectEnd();
        return new Execute(portal, maxRows);
    }
}
