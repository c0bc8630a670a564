package dev.pgpolicy.lang;

import java.util.List;

/**
 * {@code [annotations] allow|deny PRINCIPAL ACTIONS [on RESOURCES] [when EXPR] [unless EXPR];}
 * An empty resource list means every resource. {@code when} and {@code unless} are null when
 * absent.
 */
public record AccessRule(
        List<Annotation> annotations,
        Effect effect,
        Principal principal,
        List<Name> actions,
        List<Resource> resources,
        Expr when,
        Expr unless,
        Span span) implements Statement {
    public AccessRule {
        annotations = List.copyOf(annotations);
        actions = List.copyOf(actions);
        resources = List.copyOf(resources);
    }
}
