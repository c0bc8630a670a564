package dev.pgpolicy.proxy.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.DefaultByteBufHolder;
import java.util.List;
import java.util.Optional;

/**
 * DataRow (B): one result row.
 * <pre>
 * Byte1('D')
 * Int32   length
 * Int16   number of column values that follow (may be zero)
 *   per column: Int32 length (-1 = NULL, no bytes follow), Byte[n] value in the column's format
 * </pre>
 * Rows are the bulk of the traffic and most are forwarded untouched, so the row stays a
 * reference-counted buffer holding the body (column count onward). Its structure is checked once
 * when it is wrapped; column offsets are computed only when a column is first asked for (masking).
 * The holder owns one reference: release it, or hand it to a channel write. The buffer's reader
 * index must not be moved while the row is in use. {@link #toString()} never shows values.
 */
public final class DataRow extends DefaultByteBufHolder implements BackendMessage {
    public static final char TYPE = 'D';

    private final int columnCount;
    /** Absolute index of each column's Int32 length word; filled on first column access. */
    private volatile int[] lengthIndexes;

    private DataRow(ByteBuf body, int columnCount) {
        super(body);
        this.columnCount = columnCount;
    }

    /**
     * Wraps a DataRow body (column count onward), taking ownership of {@code body} on success.
     * On a malformed body it throws and the caller keeps ownership.
     */
    public static DataRow wrap(ByteBuf body) {
        return new DataRow(body, validate(body));
    }

    /** Checks {@code body} and wraps a retained slice of it; the caller keeps its own reference. */
    static DataRow decode(ByteBuf body) {
        int count = validate(body);
        return new DataRow(body.retainedSlice(), count);
    }

    /** Builds a row; an empty Optional is SQL NULL. */
    public static DataRow of(ByteBufAllocator alloc, List<Optional<Bytes>> columns) {
        List<Optional<Bytes>> values = Checks.count16(columns, "columns");
        ByteBuf body = alloc.buffer();
        try {
            body.writeShort(values.size());
            for (Optional<Bytes> value : values) {
                WireWriter.writeNullableValue(body, value.orElse(null));
            }
            return new DataRow(body, values.size());
        } catch (RuntimeException | Error e) {
            body.release();
            throw e;
        }
    }

    /** Checks count, lengths and trailing bytes without copying; returns the column count. */
    static int validate(ByteBuf body) {
        WireReader reader = new WireReader(body.duplicate(), "DataRow");
        int count = reader.readCount16("column count", 4);
        ByteBuf buf = reader.buffer();
        // Runs on every row the proxy looks into, so no per-column allocation, not even for the
        // error text until there is an error.
        for (int i = 0; i < count; i++) {
            int length = reader.readInt32("column length");
            if (length < -1) {
                throw reader.malformed("invalid length " + length + " for column " + (i + 1));
            }
            if (length > 0) {
                if (length > buf.readableBytes()) {
                    throw reader.malformed("column " + (i + 1) + " runs past the end of the message");
                }
                buf.skipBytes(length);
            }
        }
        reader.expectEnd();
        return count;
    }

    public int columnCount() {
        return columnCount;
    }

    private int lengthIndex(int column) {
        if (column < 0 || column >= columnCount) {
            throw new IndexOutOfBoundsException("column " + column + " of " + columnCount);
        }
        int[] indexes = lengthIndexes;
        if (indexes == null) {
            ByteBuf body = content();
            indexes = new int[columnCount];
            int index = body.readerIndex() + 2;
            for (int i = 0; i < columnCount; i++) {
                indexes[i] = index;
                int length = body.getInt(index);
                index += 4 + Math.max(length, 0);
            }
            lengthIndexes = indexes;
        }
        return indexes[column];
    }

    /** The byte length of a column's value, or -1 for SQL NULL. */
    public int columnLength(int column) {
        return content().getInt(lengthIndex(column));
    }

    /**
     * The absolute index, in {@link #content()}, of the column's first value byte (just after its
     * length word), for code that reads or rewrites the value in place.
     */
    public int valueIndex(int column) {
        return lengthIndex(column) + 4;
    }

    public boolean isNull(int column) {
        return columnLength(column) == -1;
    }

    /**
     * A slice over the column's bytes, or {@code null} for SQL NULL; not retained, so it is valid
     * only while this row is.
     */
    public ByteBuf column(int column) {
        int index = lengthIndex(column);
        int length = content().getInt(index);
        return length < 0 ? null : content().slice(index + 4, length);
    }

    /** A copy of the column's bytes; empty for SQL NULL. */
    public Optional<Bytes> columnValue(int column) {
        int index = lengthIndex(column);
        int length = content().getInt(index);
        return length < 0 ? Optional.empty() : Optional.of(Bytes.copyOf(content(), index + 4, length));
    }

    @Override
    public void encode(ByteBuf out) {
        ByteBuf body = content();
        out.writeByte(TYPE);
        out.writeInt(4 + body.readableBytes());
        out.writeBytes(body, body.readerIndex(), body.readableBytes());
    }

    /** The frame in a buffer of its exact size: rebuilt rows are written one by one, often by the thousand. */
    @Override
    public ByteBuf encode(ByteBufAllocator alloc) {
        int length = 1 + 4 + content().readableBytes();
        ByteBuf out = alloc.buffer(length, length);
        encode(out);
        return out;
    }

    @Override
    public DataRow copy() {
        return replace(content().copy());
    }

    @Override
    public DataRow duplicate() {
        return replace(content().duplicate());
    }

    @Override
    public DataRow retainedDuplicate() {
        return replace(content().retainedDuplicate());
    }

    /** A row over {@code content}, which must hold the same column structure as a valid row. */
    @Override
    public DataRow replace(ByteBuf content) {
        return new DataRow(content, validate(content));
    }

    @Override
    public DataRow retain() {
        super.retain();
        return this;
    }

    @Override
    public DataRow retain(int increment) {
        super.retain(increment);
        return this;
    }

    @Override
    public DataRow touch() {
        super.touch();
        return this;
    }

    @Override
    public DataRow touch(Object hint) {
        super.touch(hint);
        return this;
    }

    @Override
    public String toString() {
        return "DataRow[" + columnCount + " columns]";
    }
}
