package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;

/**
 * NegotiateProtocolVersion (B): the server does not support the requested minor version or some
 * protocol options ("_pq_." parameters) from the StartupMessage.
 * <pre>
 * Byte1('v')
 * Int32     length
 * Int32     newest minor protocol version supported for the requested major version
 * Int32     number of protocol options not recognized
 * String[n] names of those options
 * </pre>
 * The proxy speaks 3.0 to clients, so it answers a 3.x (x &gt; 0) StartupMessage with this
 * message and minor version 0.
 */
public record NegotiateProtocolVersion(int newestMinorVersion, List<String> unrecognizedOptions)
        implements BackendMessage {
    public static final char TYPE = 'v';

    public NegotiateProtocolVersion {
        if (newestMinorVersion < 0 || newestMinorVersion > 0xFFFF) {
            throw new IllegalArgumentException("minor version " + newestMinorVersion + " is out of range");
        }
        unrecognizedOptions = List.copyOf(unrecognizedOptions);
        unrecognizedOptions.forEach(option -> Checks.cString(option, "option"));
    }

    @Override
    public void encode(ByteBuf out) {
        int lengthIndex = WireWriter.beginFrame(out, TYPE);
        out.writeInt(newestMinorVersion);
        out.writeInt(unrecognizedOptions.size());
        for (String option : unrecognizedOptions) {
            WireWriter.writeCString(out, option);
        }
        WireWriter.endFrame(out, lengthIndex);
    }

    static NegotiateProtocolVersion read(WireReader body) {
        int minor = body.readInt32("minor version");
        if (minor < 0 || minor > 0xFFFF) {
            throw body.malformed("minor version " + minor + " is out of range");
        }
        int count = body.readInt32("option count");
        if (count < 0 || count > body.remaining()) {
            throw body.malformed("option count " + count + " does not fit the message length");
        }
        List<String> options = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            options.add(body.readCString("option name"));
        }
        body.expectEnd();
        return new NegotiateProtocolVersion(minor, options);
    }
}
