package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;

/**
 * RowDescription (B): the shape of the rows that follow.
 * <pre>
 * Byte1('T')
 * Int32   length
 * Int16   number of fields (may be zero)
 *   per field:
 *   String  field name
 *   Int32   table OID if the field is a plain table column, else 0
 *   Int16   attribute number of the column in that table, else 0
 *   Int32   data type OID
 *   Int16   data type size (negative for variable-width types)
 *   Int32   type modifier
 *   Int16   format code: 0 text, 1 binary (always 0 in a Describe of a statement)
 * </pre>
 * The table OID and attribute number are what masking resolves to {@code schema.table.column}, so
 * neither an alias nor {@code SELECT *} can hide a masked column.
 */
public record RowDescription(List<Field> fields) implements BackendMessage {
    public static final char TYPE = 'T';

    /** Smallest encoded field: empty name (1) + 4 + 2 + 4 + 2 + 4 + 2. */
    private static final int MIN_FIELD_BYTES = 19;

    public RowDescription {
        fields = Checks.count16(fields, "fields");
    }

    /** One column of the result. */
    public record Field(String name, int tableOid, int attributeNumber, int typeOid, int typeSize,
                        int typeModifier, int formatCode) {
        public Field {
            Checks.cString(name, "name");
            Checks.int16(attributeNumber, "attributeNumber");
            Checks.int16(typeSize, "typeSize");
            Checks.int16(formatCode, "formatCode");
        }

        /** The same field delivered in another format (masking may rewrite binary to text). */
        public Field withFormatCode(int format) {
            return new Field(name, tableOid, attributeNumber, typeOid, typeSize, typeModifier, format);
        }
    }

    @Override
    public void encode(ByteBuf out) {
        int lengthIndex = WireWriter.beginFrame(out, TYPE);
        out.writeShort(fields.size());
        for (Field field : fields) {
            WireWriter.writeCString(out, field.name());
            out.writeInt(field.tableOid());
            out.writeShort(field.attributeNumber());
            out.writeInt(field.typeOid());
            out.writeShort(field.typeSize());
            out.writeInt(field.typeModifier());
            out.writeShort(field.formatCode());
        }
        WireWriter.endFrame(out, lengthIndex);
    }

    static RowDescription read(WireReader body) {
        int count = body.readCount16("field count", MIN_FIELD_BYTES);
        List<Field> fields = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            String name = body.readCString("field name");
            int tableOid = body.readInt32("table OID");
            int attribute = body.readInt16("attribute number");
            int typeOid = body.readInt32("type OID");
            int typeSize = body.readInt16("type size");
            int typeModifier = body.readInt32("type modifier");
            int format = body.readInt16("format code");
            fields.add(new Field(name, tableOid, attribute, typeOid, typeSize, typeModifier, format));
        }
        body.expectEnd();
        return new RowDescription(fields);
    }
}
