package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;

/**
 * AuthenticationSASL (B): SASL authentication is required, with the mechanisms the server offers.
 * <pre>
 * Byte1('R')
 * Int32      length
 * Int32(10)  the authentication code
 * String...  mechanism names, in the server's order of preference
 * Byte1(0)   terminating the list
 * </pre>
 * A proxy that terminates TLS removes "SCRAM-SHA-256-PLUS" from the offer with
 * {@link #without}, since channel binding to the proxy's certificate cannot reach the server.
 */
public record AuthenticationSASL(List<String> mechanisms) implements Authentication {

    public AuthenticationSASL {
        mechanisms = List.copyOf(mechanisms);
        if (mechanisms.isEmpty()) {
            throw new IllegalArgumentException("at least one SASL mechanism must be offered");
        }
        for (String mechanism : mechanisms) {
            Checks.cString(mechanism, "mechanism");
            if (mechanism.isEmpty()) {
                throw new IllegalArgumentException("mechanism name must not be empty");
            }
        }
    }

    @Override
    public int code() {
        return SASL;
    }

    /** The same offer minus {@code mechanism}. */
    public AuthenticationSASL without(String mechanism) {
        return new AuthenticationSASL(mechanisms.stream().filter(m -> !m.equals(mechanism)).toList());
    }

    @Override
    public void encode(ByteBuf out) {
        int lengthIndex = WireWriter.beginFrame(out, TYPE);
        out.writeInt(SASL);
        for (String mechanism : mechanisms) {
            WireWriter.writeCString(out, mechanism);
        }
        out.writeByte(0);
        WireWriter.endFrame(out, lengthIndex);
    }

    static AuthenticationSASL read(WireReader body) {
        List<String> mechanisms = new ArrayList<>();
        while (true) {
            String mechanism = body.readCString("mechanism name");
            if (mechanism.isEmpty()) {
                break;
            }
            mechanisms.add(mechanism);
        }
        body.expectEnd();
        if (mechanisms.isEmpty()) {
            throw body.malformed("no SASL mechanism offered");
        }
        return new AuthenticationSASL(mechanisms);
    }
}
