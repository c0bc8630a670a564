package dev.pgpolicy.policy.testing;

import dev.pgpolicy.lang.Span;
import java.util.Objects;

/**
 * One expectation that did not hold. {@link #toString()} is the line {@code pgpolicy test}
 * prints: {@code file:line:col: test "name": expected ..., got ...}, pointing at the failing
 * {@code expect} so that editors can jump to it.
 */
public record TestFailure(Span at, String testName, String message) {

    public TestFailure {
        Objects.requireNonNull(at, "at");
        Objects.requireNonNull(testName, "testName");
        Objects.requireNonNull(message, "message");
    }

    @Override
    public String toString() {
        return at + ": test \"" + testName + "\": " + message;
    }
}
