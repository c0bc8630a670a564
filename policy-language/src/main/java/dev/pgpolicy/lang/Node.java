package dev.pgpolicy.lang;

/**
 * Every node of the policy and test syntax trees. The records are plain data with their source
 * position so that the compiler, a reference evaluator or a formatter can walk them without the
 * ANTLR parse tree.
 */
public sealed interface Node
        permits PolicyFile, Statement, Annotation, Principal, PrincipalTerm, Name, Resource, Expr,
                MaskCall, LimitEntry, TestFile, TestCase, SessionSpec, TestQuery, Expectation {
    Span span();
}
