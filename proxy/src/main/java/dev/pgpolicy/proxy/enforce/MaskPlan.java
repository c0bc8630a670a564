package dev.pgpolicy.proxy.enforce;

import dev.pgpolicy.policy.MaskFunction;
import dev.pgpolicy.policy.MaskSpec;
import dev.pgpolicy.proxy.session.RowFilter;
import dev.pgpolicy.proxy.wire.DataRow;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The masks to apply to the columns of one result, by position, and the {@link RowFilter} that
 * applies them. A masked value must stay decodable for the column's type (LANGUAGE.md, "MASK"):
 * text-like types ({@code text}, {@code varchar}, {@code bpchar}, {@code name}) get the mask's
 * text, whose bytes are the same in the text and the binary format (PostgreSQL docs "Binary
 * formats": {@code textsend} sends the text in the client encoding); every other type gets NULL,
 * whatever the mask. Columns the proxy could not place are NULL for a principal with masks (fail
 * closed).
 *
 * <p>Values are read and masked texts written in the session's {@code client_encoding}, which is
 * what the server sends text in, in both formats; a row filter made for an encoding without a
 * Java charset makes every masked column NULL rather than guess at its bytes.
 *
 * <p>Rows are rewritten with as little work as the masks allow: a masked value whose new bytes
 * have the old length is overwritten in the row's own buffer, which then goes to the client as
 * it came (the frame's bytes belong to this row alone; the receive buffer around it holds other
 * frames, never these bytes); otherwise the new row is built in one buffer of its exact size,
 * the columns between masked ones copied in bulk. A {@code redact} mask's bytes are encoded once
 * per plan, not once per row, and its value is never decoded. Inside a DataRow run, a plan whose
 * masks do not depend on the values (redact, NULL) reads each frame where it lies and writes a
 * rebuilt row straight into the run's output ({@link RowFilter#filterFrame}): no frame, row or
 * replacement objects per row.
 */
final class MaskPlan {

    /** text, varchar, bpchar, name: the types whose masked text is a valid value in both formats. */
    static final Set<Integer> TEXT_LIKE_TYPES = Set.of(25, 1043, 1042, 19);

    /** What happens to one column. */
    sealed interface ColumnAction permits Keep, Mask, Nullify {
    }

    record Keep() implements ColumnAction {
    }

    record Mask(MaskSpec spec, String column) implements ColumnAction {
    }

    record Nullify(String why) implements ColumnAction {
    }

    static final ColumnAction KEEP = new Keep();

    /** Marks a column whose masked value is SQL NULL, among the replacement byte arrays of a row. */
    private static final byte[] SQL_NULL = new byte[0];

    private final List<ColumnAction> actions;
    private final boolean nullifyAll;
    private final MaskingKey hashKey;
    /** The client encoding's charset; null when it has none, and masked values are then NULL. */
    private final Charset valueCharset;
    /** Per column: its action, for the row loop (no list or instanceof walk per value). */
    private final ColumnAction[] byColumn;
    /** Per column: the bytes of a mask whose text does not depend on the value (redact), else null. */
    private final byte[][] constantBytes;
    /**
     * Per column of {@link #byColumn}, what a non-NULL value becomes when no column's mask depends
     * on its value: null to keep it, {@link #SQL_NULL}, or the constant bytes; null as a whole when
     * some mask does depend on the value (hash, partial, ...), whose rows take the decoded path.
     */
    private final byte[][] fixedReplacements;
    /** The masked columns' names ({@code schema.table.column}), for the statement's audit record. */
    private final List<String> maskedColumns;
    /** The one filter of this plan: it holds no state of its own, so every result it masks shares it. */
    private final RowFilter filter;

    private MaskPlan(List<ColumnAction> actions, boolean nullifyAll, MaskingKey hashKey, Charset valueCharset) {
        this.actions = List.copyOf(actions);
        this.nullifyAll = nullifyAll;
        this.hashKey = hashKey;
        this.valueCharset = valueCharset;
        this.byColumn = this.actions.toArray(new ColumnAction[0]);
        this.constantBytes = new byte[byColumn.length][];
        for (int i = 0; i < byColumn.length; i++) {
            if (byColumn[i] instanceof Mask mask && valueCharset != null
                    && mask.spec().function() == MaskFunction.REDACT) {
                constantBytes[i] = mask.spec().applyToText("").getBytes(valueCharset);
            }
        }
        this.fixedReplacements = fixedReplacements(byColumn, constantBytes, valueCharset);
        List<String> masked = new ArrayList<>();
        boolean keepsAll = !nullifyAll;
        for (ColumnAction action : byColumn) {
            keepsAll &= action instanceof Keep;
            if (action instanceof Mask mask) {
                masked.add(mask.column());
            }
        }
        this.maskedColumns = List.copyOf(masked);
        this.filter = keepsAll ? RowFilter.UNCHANGED : new PlanFilter();
    }

    private static byte[][] fixedReplacements(ColumnAction[] byColumn, byte[][] constantBytes, Charset valueCharset) {
        byte[][] fixed = new byte[byColumn.length][];
        for (int i = 0; i < byColumn.length; i++) {
            ColumnAction action = byColumn[i];
            if (action instanceof Keep) {
                continue;
            }
            if (!(action instanceof Mask) || valueCharset == null) {
                fixed[i] = SQL_NULL;
            } else if (constantBytes[i] != null) {
                fixed[i] = constantBytes[i];
            } else {
                return null;
            }
        }
        return fixed;
    }

    /** A plan for values in UTF-8 (COPY masking decodes and encodes values itself, see CopyTextCodec). */
    static MaskPlan of(List<ColumnAction> actions, MaskingKey hashKey) {
        return new MaskPlan(actions, false, hashKey, StandardCharsets.UTF_8);
    }

    /**
     * A plan for DataRows whose text values are in {@code valueCharset}, the session's client
     * encoding; null when that encoding has no Java charset (masked values then become NULL).
     */
    static MaskPlan of(List<ColumnAction> actions, MaskingKey hashKey, Charset valueCharset) {
        return new MaskPlan(actions, false, hashKey, valueCharset);
    }

    /** Every value NULL: the result's columns are unknown to the proxy. */
    static MaskPlan nullifyAll(MaskingKey hashKey) {
        return new MaskPlan(List.of(), true, hashKey, StandardCharsets.UTF_8);
    }

    boolean changesNothing() {
        return filter == RowFilter.UNCHANGED;
    }

    /** The names ({@code schema.table.column}) of the columns this plan masks, in column order. */
    List<String> maskedColumns() {
        return maskedColumns;
    }

    List<ColumnAction> actions() {
        return actions;
    }

    /** The charset masked values are read and written in; null when masked values become NULL. */
    Charset valueCharset() {
        return valueCharset;
    }

    RowFilter filter() {
        return filter;
    }

    private final class PlanFilter implements RowFilter {
        @Override
        public DataRow filter(DataRow row, ByteBufAllocator alloc) {
            return apply(row, alloc);
        }

        @Override
        public FrameOutcome filterFrame(ByteBuf frames, int frameIndex, ByteBufAllocator alloc, ByteBuf out) {
            if (nullifyAll || fixedReplacements != null) {
                FrameOutcome outcome = applyFixed(frames, frameIndex, out);
                if (outcome != null) {
                    return outcome;
                }
            }
            return RowFilter.super.filterFrame(frames, frameIndex, alloc, out);
        }
    }

    /**
     * {@link #apply} for a plan whose masked values do not depend on the values (NULL, redact), on
     * the frame where it lies in {@code frames}: the same bytes as {@link #apply} and
     * {@link DataRow#encode}, without the row, frame and replacement objects, and nothing
     * decoded. Returns null for a frame whose structure does not hold, which then takes the
     * decoded path and its error (fail closed, one place that words it).
     */
    private RowFilter.FrameOutcome applyFixed(ByteBuf frames, int frameIndex, ByteBuf out) {
        int frameLength = 1 + frames.getInt(frameIndex + 1);
        int frameEnd = frameIndex + frameLength;
        int countIndex = frameIndex + 5;
        if (frameLength < 7 || frames.getByte(frameIndex) != DataRow.TYPE) {
            return null;
        }
        int count = frames.getUnsignedShort(countIndex);
        // First pass: check the structure, find what changes and whether every value keeps its length.
        int newFrameLength = frameLength;
        boolean changes = false;
        boolean sameLengths = true;
        int index = countIndex + 2;
        for (int i = 0; i < count; i++) {
            if (frameEnd - index < 4) {
                return null;
            }
            int length = frames.getInt(index);
            if (length < -1 || length > frameEnd - index - 4) {
                return null;
            }
            index += 4 + Math.max(length, 0);
            byte[] replacement = fixedReplacement(i);
            if (replacement == null || length < 0) {
                continue; // kept, or NULL, which stays NULL under every mask
            }
            changes = true;
            if (replacement == SQL_NULL) {
                newFrameLength -= length;
                sameLengths = false;
            } else {
                newFrameLength += replacement.length - length;
                sameLengths &= replacement.length == length;
            }
        }
        if (index != frameEnd) {
            return null;
        }
        if (!changes) {
            return RowFilter.FrameOutcome.KEPT;
        }
        if (sameLengths && !frames.isReadOnly()) {
            index = countIndex + 2;
            for (int i = 0; i < count; i++) {
                int length = frames.getInt(index);
                byte[] replacement = fixedReplacement(i);
                if (replacement != null && length >= 0) {
                    frames.setBytes(index + 4, replacement);
                }
                index += 4 + Math.max(length, 0);
            }
            return RowFilter.FrameOutcome.KEPT;
        }
        if (out == null) {
            return RowFilter.FrameOutcome.NEEDS_OUTPUT;
        }
        // Second pass: the new frame, the columns between changed values copied in bulk.
        out.ensureWritable(newFrameLength);
        out.writeByte(DataRow.TYPE).writeInt(newFrameLength - 1);
        int copyFrom = countIndex;
        index = countIndex + 2;
        for (int i = 0; i < count; i++) {
            int length = frames.getInt(index);
            int next = index + 4 + Math.max(length, 0);
            byte[] replacement = fixedReplacement(i);
            if (replacement != null && length >= 0) {
                out.writeBytes(frames, copyFrom, index - copyFrom);
                if (replacement == SQL_NULL) {
                    out.writeInt(-1);
                } else {
                    out.writeInt(replacement.length).writeBytes(replacement);
                }
                copyFrom = next;
            }
            index = next;
        }
        out.writeBytes(frames, copyFrom, frameEnd - copyFrom);
        return RowFilter.FrameOutcome.REWRITTEN;
    }

    /** What a non-NULL value of {@code column} becomes under a fixed plan: null to keep it, SQL_NULL, or bytes. */
    private byte[] fixedReplacement(int column) {
        if (nullifyAll) {
            return SQL_NULL;
        }
        return column < fixedReplacements.length ? fixedReplacements[column] : null;
    }

    private DataRow apply(DataRow row, ByteBufAllocator alloc) {
        int count = row.columnCount();
        ByteBuf body = row.content();
        // First pass: the new bytes of each value that changes, and whether all keep their length.
        byte[][] replacements = null;
        boolean sameLengths = true;
        int newBodyLength = body.readableBytes();
        for (int i = 0; i < count; i++) {
            ColumnAction action = nullifyAll ? null : i < byColumn.length ? byColumn[i] : KEEP;
            if (action instanceof Keep) {
                continue;
            }
            int length = row.columnLength(i);
            if (length < 0) {
                continue; // NULL stays NULL under every mask
            }
            byte[] replacement = replacement(action, i, body, row.valueIndex(i), length);
            if (replacements == null) {
                replacements = new byte[count][];
            }
            replacements[i] = replacement;
            if (replacement == SQL_NULL) {
                newBodyLength -= length;
                sameLengths = false;
            } else {
                newBodyLength += replacement.length - length;
                sameLengths &= replacement.length == length;
            }
        }
        if (replacements == null) {
            return row;
        }
        if (sameLengths && !body.isReadOnly()) {
            for (int i = 0; i < count; i++) {
                if (replacements[i] != null) {
                    body.setBytes(row.valueIndex(i), replacements[i]);
                }
            }
            return row;
        }
        return rebuilt(row, replacements, newBodyLength, alloc);
    }

    /** The new bytes of a non-NULL value under {@code action} (null: every column NULL); SQL_NULL for NULL. */
    private byte[] replacement(ColumnAction action, int column, ByteBuf body, int index, int length) {
        if (!(action instanceof Mask mask) || valueCharset == null) {
            return SQL_NULL; // Nullify, a plan for unknown columns, or an encoding the proxy cannot read
        }
        byte[] constant = constantBytes[column];
        if (constant != null) {
            return constant;
        }
        String masked = maskedText(mask, body.toString(index, length, valueCharset));
        return masked == null ? SQL_NULL : masked.getBytes(valueCharset);
    }

    /** A new row of exactly {@code bodyLength} bytes: replaced values written, the runs between them copied. */
    private static DataRow rebuilt(DataRow row, byte[][] replacements, int bodyLength, ByteBufAllocator alloc) {
        ByteBuf body = row.content();
        ByteBuf out = alloc.buffer(bodyLength, bodyLength);
        try {
            int copyFrom = body.readerIndex();
            for (int i = 0; i < replacements.length; i++) {
                byte[] replacement = replacements[i];
                if (replacement == null) {
                    continue;
                }
                int lengthIndex = row.valueIndex(i) - 4;
                out.writeBytes(body, copyFrom, lengthIndex - copyFrom);
                if (replacement == SQL_NULL) {
                    out.writeInt(-1);
                } else {
                    out.writeInt(replacement.length).writeBytes(replacement);
                }
                copyFrom = row.valueIndex(i) + row.columnLength(i);
            }
            out.writeBytes(body, copyFrom, body.writerIndex() - copyFrom);
            DataRow masked = DataRow.wrap(out);
            row.release();
            return masked;
        } catch (RuntimeException | Error e) {
            out.release();
            throw e;
        }
    }

    /** The text a {@link Mask} column shows instead of {@code value}; null when the mask gives NULL. */
    String maskedText(Mask mask, String value) {
        return mask.spec().isKeyedHash() ? hashKey.token(value) : mask.spec().applyToText(value);
    }
}
