package dev.pgpolicy.proxy.session;

import dev.pgpolicy.proxy.wire.ErrorResponse;
import dev.pgpolicy.proxy.wire.FrontendMessage;
import java.util.Objects;

/**
 * What {@link SessionHooks} decide for one Query, Parse or Bind: forward it unchanged (the
 * original frame, not a re-encoding), forward a replacement, or deny it with an error.
 */
public final class Verdict {

    public enum Action {
        FORWARD,
        REWRITE,
        DENY
    }

    public static final Verdict FORWARD = new Verdict(Action.FORWARD, null, null);

    private final Action action;
    private final FrontendMessage replacement;
    private final ErrorResponse error;

    private Verdict(Action action, FrontendMessage replacement, ErrorResponse error) {
        this.action = action;
        this.replacement = replacement;
        this.error = error;
    }

    /** Forward {@code replacement} instead; it must be of the same message type as the original. */
    public static Verdict rewrite(FrontendMessage replacement) {
        return new Verdict(Action.REWRITE, Objects.requireNonNull(replacement), null);
    }

    /** Refuse the message; the client receives {@code error} (severity ERROR) in protocol order. */
    public static Verdict deny(ErrorResponse error) {
        Objects.requireNonNull(error);
        if (error.isFatal()) {
            throw new IllegalArgumentException("a denial is an ERROR, the session goes on");
        }
        return new Verdict(Action.DENY, null, error);
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
        }
        throw new AssertionError(action);
    }
}
