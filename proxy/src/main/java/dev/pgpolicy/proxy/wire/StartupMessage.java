package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * StartupMessage (F): the first packet of a plain connection.
 * <pre>
 * Int32  length, including itself
 * Int32  protocol version: major in the high 16 bits, minor in the low 16 (196608 = 3.0)
 * pairs of String name, String value   (user is required; database, options, replication,
 *                                       and any run-time parameter may follow)
 * Byte1  0, terminating the list
 * </pre>
 * Parameters keep the order the client sent them in, so they reach the server exactly as sent.
 * A parameter name may appear only once: PostgreSQL would silently keep the last value, which
 * would let a client show the proxy one user and the server another.
 */
public record StartupMessage(int protocolVersion, Map<String, String> parameters) implements StartupPacket {

    public static final int PROTOCOL_3_0 = 3 << 16;

    public StartupMessage {
        if (protocolVersion >>> 16 != 3) {
            throw new IllegalArgumentException("protocol version " + (protocolVersion >>> 16) + "."
                    + (protocolVersion & 0xFFFF) + " is not 3.x");
        }
        Objects.requireNonNull(parameters, "parameters");
        LinkedHashMap<String, String> copy = new LinkedHashMap<>();
        parameters.forEach((name, value) -> {
            Checks.cString(name, "parameter name");
            Checks.cString(value, "value of parameter " + name);
            if (name.isEmpty()) {
                throw new IllegalArgumentException("parameter name must not be empty");
            }
            copy.put(name, value);
        });
        parameters = Collections.unmodifiableMap(copy);
    }

    public static StartupMessage of(Map<String, String> parameters) {
        return new StartupMessage(PROTOCOL_3_0, parameters);
    }

    public int majorVersion() {
        return protocolVersion >>> 16;
    }

    public int minorVersion() {
        return protocolVersion & 0xFFFF;
    }

    public Optional<String> parameter(String name) {
        return Optional.ofNullable(parameters.get(name));
    }

    /** The same parameters under another 3.x version; the proxy asks the server for 3.0. */
    public StartupMessage withProtocolVersion(int version) {
        return new StartupMessage(version, parameters);
    }

    @Override
    public void encode(ByteBuf out) {
        int lengthIndex = WireWriter.beginUntyped(out);
        out.writeInt(protocolVersion);
        parameters.forEach((name, value) -> {
            WireWriter.writeCString(out, name);
            WireWriter.writeCString(out, value);
        });
        out.writeByte(0);
        WireWriter.endFrame(out, lengthIndex);
    }

    static StartupMessage read(int protocolVersion, WireReader body) {
        LinkedHashMap<String, String> parameters = new LinkedHashMap<>();
        while (true) {
            if (body.remaining() == 0) {
                throw body.malformed("parameter list is not terminated");
            }
            String name = body.readCString("parameter name");
            if (name.isEmpty()) {
                break;
            }
            String value = body.readCString("value of parameter \"" + name + "\"");
            if (parameters.put(name, value) != null) {
                throw body.malformed("parameter \"" + name + "\" appears more than once");
            }
        }
        body.expectEnd();
        return new StartupMessage(protocolVersion, parameters);
    }
}
