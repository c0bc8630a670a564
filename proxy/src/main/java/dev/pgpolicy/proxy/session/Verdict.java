package dev.pgpolicy.proxy.session;

import dev.pgpolicy.proxy.wire.ErrorResponse;
import dev.pgpolicy.proxy.wire.FrontendMessage;
import java.util.Objects;
import java.util.concurrent.CompletionStage;

/**
 * What {@link SessionHooks} decide for one Query, Parse, Bind or FunctionCall: forward it
 * unchanged (the original frame, not a re-encoding), forward a replacement, deny it with an
 * error, or decide later ({@link #pending}) when the decision needs work that must not run on
 * the event loop (SQL analysis). While a decision is pending the session stops reading the client
 * and holds what already arrived, so requests still reach the server in the order they were sent.
 */
public final class Verdict {

    public enum Action {
        FORWARD,
        REWRITE,
        DENY,
        PENDING
    }

    public static final Verdict FORWARD = new Verdict(Action.FORWARD, null, null, null);

    private final Action action;
    private final FrontendMessage replacement;
    private final ErrorResponse error;
    private final CompletionStage<Verdict> decision;

    private Verdict(Action action, FrontendMessage replacement, ErrorResponse error, CompletionStage<Verdict> decision) {
        this.action = action;
        this.replacement = replacement;
        this.error = error;
        this.decision = decision;
    }

    /** Forward {@code replacement} instead; it must be of the same message type as the original. */
    public static Verdict rewrite(FrontendMessage replacement) {
        return new Verdict(Action.REWRITE, Objects.requireNonNull(replacement), null, null);
    }

    /** Refuse the message; the client receives {@code error} (severity ERROR) in protocol order. */
    public static Verdict deny(ErrorResponse error) {
        Objects.requireNonNull(error);
        if (error.isFatal()) {
            throw new IllegalArgumentException("a denial is an ERROR, the session goes on");
        }
        return new Verdict(Action.DENY, null, error, null);
    }

    /**
     * The decision arrives later. It must complete with FORWARD, REWRITE or DENY; completing
     * exceptionally denies the request (fail closed) and the session goes on.
     */
    public static Verdict pending(CompletionStage<Verdict> decision) {
        return new Verdict(Action.PENDING, null, null, Objects.requireNonNull(decision));
    }

    public Action action() {
        return action;
    }

    public FrontendMessage replacement() {
        if (action != Action.REWRITE) {
            throw new IllegalStateException(action + " has no replacement");
        }
        return replacement;
    }

    public CompletionStage<Verdict> decision() {
        if (action != Action.PENDING) {
            throw new IllegalStateException(action + " is not pending");
        }
        return decision;
    }

    public ErrorResponse error() {
        if (action != Action.DENY) {
            throw new IllegalStateException(action + " has no error");
        }
        return error;
    }

    @Override
    public String toString() {
        switch (action) {
            case FORWARD:
                return "Verdict[FORWARD]";
            case REWRITE:
                return "Verdict[REWRITE " + replacement + "]";
            case DENY:
                return "Verdict[DENY " + error + "]";
            case PENDING:
                return "Verdict[PENDING]";
        }
        throw new AssertionError(action);
    }
}
