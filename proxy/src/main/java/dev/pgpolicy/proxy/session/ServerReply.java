package dev.pgpolicy.proxy.session;

import dev.pgpolicy.proxy.wire.ErrorResponse;
import java.util.Objects;
import java.util.Optional;

/**
 * How the server ended (part of) a request, for {@link SessionHooks#onReply}: one statement of a
 * simple Query or one Execute completed, failed, or the request ended with ReadyForQuery.
 *
 * @param kind what the server sent
 * @param commandTag the CommandComplete tag ({@code SELECT 3}, {@code INSERT 0 1}), only for
 *     {@link Kind#COMMAND_COMPLETE}
 * @param error the server's error, only for {@link Kind#ERROR}
 */
public record ServerReply(Kind kind, Optional<String> commandTag, Optional<ErrorResponse> error) {

    public enum Kind {
        /** CommandComplete: a statement of a simple Query, or an Execute, ran to completion. */
        COMMAND_COMPLETE,
        /** EmptyQueryResponse: the text held no statement. */
        EMPTY_QUERY,
        /** PortalSuspended: an Execute reached its row limit; the portal can be executed again. */
        PORTAL_SUSPENDED,
        /** ErrorResponse: the statement failed in the server. */
        ERROR,
        /** ReadyForQuery: a simple Query (or a Sync) is fully answered. */
        READY
    }

    public ServerReply {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(commandTag, "commandTag");
        Objects.requireNonNull(error, "error");
    }

    public static ServerReply of(Kind kind) {
        return new ServerReply(kind, Optional.empty(), Optional.empty());
    }

    public static ServerReply completed(String tag) {
        return new ServerReply(Kind.COMMAND_COMPLETE, Optional.of(tag), Optional.empty());
    }

    public static ServerReply failed(ErrorResponse error) {
        return new ServerReply(Kind.ERROR, Optional.empty(), Optional.of(error));
    }
}
