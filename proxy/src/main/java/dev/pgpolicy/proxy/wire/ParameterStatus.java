package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;

/**
 * ParameterStatus (B): the current value of a run-time parameter the client is told about
 * (server_version, client_encoding, TimeZone, ...), sent at startup and whenever one changes.
 * <pre>
 * Byte1('S')
 * Int32   length
 * String  parameter name
 * String  parameter value
 * </pre>
 */
public record ParameterStatus(String name, String value) implements BackendMessage {
    public static final char TYPE = 'S';

    public ParameterStatus {
        Checks.cString(name, "name");
        Checks.cString(value, "value");
    }

    @Override
    public void encode(ByteBuf out) {
        int lengthIndex = WireWriter.beginFrame(out, TYPE);
        WireWriter.writeCString(out, name);
        WireWriter.writeCString(out, value);
        WireWriter.endFrame(out, lengthIndex);
    }

    static ParameterStatus read(WireReader body) {
        String name = body.readCString("parameter name");
        String value = body.readCString("parameter value");
        body.expectEnd();
        return new ParameterStatus(name, value);
    }
}
