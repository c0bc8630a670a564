package dev.pgpolicy.policy;

import dev.pgpolicy.lang.ResourceKind;
import dev.pgpolicy.sql.Action;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The mask rules that apply to one principal, most restrictive first, so that the first match
 * for a column is the mask to use when several rules cover it.
 */
public final class MaskSet {

    static final MaskSet EMPTY = new MaskSet(List.of());

    private final List<CompiledRule.Mask> rules;

    MaskSet(List<CompiledRule.Mask> applicable) {
        List<CompiledRule.Mask> sorted = new ArrayList<>(applicable);
        sorted.sort(Comparator.comparing((CompiledRule.Mask m) -> m.mask().function()).reversed()
                .thenComparingInt(m -> m.head().index()));
        this.rules = List.copyOf(sorted);
    }

    public boolean isEmpty() {
        return rules.isEmpty();
    }

    /** The mask for a column the catalog has named exactly (from RowDescription, for instance). */
    public Optional<MaskSpec> maskFor(String schema, String table, String column) {
        return maskFor(ResolvedName.certain(schema, table), column).map(MaskBinding::mask);
    }

    /** The mask for a column of a possibly uncertain table: any candidate schema is enough (fail closed). */
    public Optional<MaskBinding> maskFor(ResolvedName table, String column) {
        Request request = new Request(Action.SELECT, ResourceKind.COLUMN,
                table, column, false);
        for (CompiledRule.Mask rule : rules) {
            for (ResourceMatcher matcher : rule.columns()) {
                if (matcher.matches(request, true, null)) {
                    return Optional.of(binding(rule, matcher));
                }
            }
        }
        return Optional.empty();
    }

    /** Whether any mask rule could apply to a column of this table; a masked table's binary COPY is denied. */
    public boolean masksTable(ResolvedName table) {
        return maskFor(table, "*").isPresent();
    }

    public List<MaskBinding> bindings() {
        List<MaskBinding> bindings = new ArrayList<>();
        for (CompiledRule.Mask rule : rules) {
            for (ResourceMatcher matcher : rule.columns()) {
                bindings.add(binding(rule, matcher));
            }
        }
        return bindings;
    }

    private static MaskBinding binding(CompiledRule.Mask rule, ResourceMatcher matcher) {
        return new MaskBinding(rule.head().id(), matcher.text(), rule.mask());
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof MaskSet that && rules.equals(that.rules);
    }

    @Override
    public int hashCode() {
        return rules.hashCode();
    }

    @Override
    public String toString() {
        return bindings().toString();
    }
}
