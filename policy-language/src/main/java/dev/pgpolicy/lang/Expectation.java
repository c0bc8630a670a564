package dev.pgpolicy.lang;

import java.util.List;

/** What a test expects of the decision for the query before it. */
public sealed interface Expectation extends Node {

    record Allow(Span span) implements Expectation {
    }

    /** {@code expect deny;} or {@code expect deny by "id", "id2";}: every listed id must be among the decision's rule ids. */
    record Deny(List<String> ruleIds, Span span) implements Expectation {
        public Deny {
            ruleIds = List.copyOf(ruleIds);
        }
    }

    /** {@code expect mask payments.customers.email with email;} (arguments optional). */
    record Mask(Resource column, Name function, List<Expr> arguments, boolean argumentsGiven, Span span)
            implements Expectation {
        public Mask {
            arguments = List.copyOf(arguments);
        }
    }

    record Warn(Name heuristic, Span span) implements Expectation {
    }
}
