package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;

/**
 * CopyFail (F): the client aborts COPY FROM STDIN; the server answers with an ErrorResponse.
 * <pre>
 * Byte1('f')
 * Int32   length
 * String  the reason, reported in the error
 * </pre>
 */
public record CopyFail(String message) implements FrontendMessage {
    public static final char TYPE = 'f';

    public CopyFail {
        Checks.cString(message, "message");
    }

    @Override
    public void encode(ByteBuf out) {
        int lengthIndex = WireWriter.beginFrame(out, TYPE);
        WireWriter.writeCString(out, message);
        WireWriter.endFrame(out, lengthIndex);
    }

    static CopyFail read(WireReader body) {
        String message = body.readCString("error message");
        body.expectEnd();
        return new CopyFail(message);
    }
}
