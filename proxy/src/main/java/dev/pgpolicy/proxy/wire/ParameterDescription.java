package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;

/**
 * ParameterDescription (B): the parameter types of a described statement.
 * <pre>
 * Byte1('t')
 * Int32    length
 * Int16    number of parameters
 * Int32[n] data type OID of each parameter
 * </pre>
 */
public record ParameterDescription(List<Integer> typeOids) implements BackendMessage {
    public static final char TYPE = 't';

    public ParameterDescription {
        typeOids = Checks.count16(typeOids, "typeOids");
    }

    @Override
    public void encode(ByteBuf out) {
        int lengthIndex = WireWriter.beginFrame(out, TYPE);
        out.writeShort(typeOids.size());
        for (int oid : typeOids) {
            out.writeInt(oid);
        }
        WireWriter.endFrame(out, lengthIndex);
    }

    static ParameterDescription read(WireReader body) {
        int count = body.readCount16("parameter count", 4);
        List<Integer> oids = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            oids.add(body.readInt32("parameter type"));
        }
        body.expectEnd();
        return new ParameterDescription(oids);
    }
}
