package dev.pgpolicy.proxy.enforce;

import dev.pgpolicy.policy.MaskSpec;
import dev.pgpolicy.proxy.session.RowFilter;
import dev.pgpolicy.proxy.wire.Bytes;
import dev.pgpolicy.proxy.wire.DataRow;
import io.netty.buffer.ByteBufAllocator;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The masks to apply to the columns of one result, by position, and the {@link RowFilter} that
 * applies them. A masked value must stay decodable for the column's type (LANGUAGE.md, "MASK"):
 * text-like types ({@code text}, {@code varchar}, {@code bpchar}, {@code name}) get the mask's
 * text, whose bytes are the same in the text and the binary format (UTF-8 in both, PostgreSQL docs
 * "Binary formats" for {@code text}); every other type gets NULL, whatever the mask. Columns the
 * proxy could not place are NULL for a principal with masks (fail closed).
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

    private final List<ColumnAction> actions;
    private final boolean nullifyAll;
    private final MaskingKey hashKey;

    private MaskPlan(List<ColumnAction> actions, boolean nullifyAll, MaskingKey hashKey) {
        this.actions = List.copyOf(actions);
        this.nullifyAll = nullifyAll;
        this.hashKey = hashKey;
    }

    static MaskPlan of(List<ColumnAction> actions, MaskingKey hashKey) {
        return new MaskPlan(actions, false, hashKey);
    }

    /** Every value NULL: the result's columns are unknown to the proxy. */
    static MaskPlan nullifyAll(MaskingKey hashKey) {
        return new MaskPlan(List.of(), true, hashKey);
    }

    boolean changesNothing() {
        return !nullifyAll && actions.stream().allMatch(action -> action instanceof Keep);
    }

    List<ColumnAction> actions() {
        return actions;
    }

    RowFilter filter() {
        if (changesNothing()) {
            return RowFilter.UNCHANGED;
        }
        return this::apply;
    }

    private DataRow apply(DataRow row, ByteBufAllocator alloc) {
        int count = row.columnCount();
        List<Optional<Bytes>> values = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            Optional<Bytes> value = row.columnValue(i);
            ColumnAction action = nullifyAll ? new Nullify("unknown result") : i < actions.size() ? actions.get(i) : KEEP;
            values.add(apply(action, value));
        }
        DataRow masked = DataRow.of(alloc, values);
        row.release();
        return masked;
    }

    private Optional<Bytes> apply(ColumnAction action, Optional<Bytes> value) {
        if (action instanceof Keep || value.isEmpty()) {
            return value;
        }
        if (action instanceof Nullify) {
            return Optional.empty();
        }
        if (action instanceof Mask mask) {
            String masked = maskedText(mask, value.get().toUtf8String());
            return masked == null ? Optional.empty() : Optional.of(Bytes.utf8(masked));
        }
        throw new AssertionError(action);
    }

    /** The text a {@link Mask} column shows instead of {@code value}; null when the mask gives NULL. */
    String maskedText(Mask mask, String value) {
        return mask.spec().isKeyedHash() ? hashKey.token(value) : mask.spec().applyToText(value);
    }
}
