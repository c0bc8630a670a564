package dev.pgpolicy.lang;

import java.util.List;

/** {@code [annotations] mask PRINCIPAL COLUMNS with MASK [when EXPR];} */
public record MaskRule(
        List<Annotation> annotations,
        Principal principal,
        List<Resource> columns,
        MaskCall mask,
        Expr when,
        Span span) implements Statement {
    public MaskRule {
        annotations = List.copyOf(annotations);
        columns = List.copyOf(columns);
    }
}
