package dev.pgpolicy.proxy.session;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the proxy knows about a session, for policies, audit and logs. Attributes appear as the
 * session progresses: the client address at accept, user and database with the StartupMessage,
 * the authentication method during authentication.
 */
public interface SessionInfo {

    /** Short hexadecimal id used in logs and, later, audit records. */
    String id();

    /**
     * Where components keep their state of this session (the enforcement hooks', the statement
     * audit's): the same object for the session's whole life, gone with it.
     */
    SessionAttachments attachments();

    InetSocketAddress clientAddress();

    /**
     * Who the client is: passthrough, the user the server accepted (the one the client named);
     * {@code auth.mode: proxy}, the proxy user from the users file.
     */
    Optional<String> user();

    /**
     * The role the session runs as upstream: passthrough, the same as {@link #user()};
     * {@code auth.mode: proxy}, the mapped service account's user, once authenticated.
     */
    default Optional<String> dbUser() {
        return user();
    }

    /** The user's groups from the users file ({@code auth.mode: proxy}); none in passthrough. */
    default List<String> groups() {
        return List.of();
    }

    /** The database; PostgreSQL defaults it to the user name. */
    Optional<String> database();

    /** The current application_name: from the StartupMessage, updated by the server's ParameterStatus. */
    Optional<String> applicationName();

    /** Whether the client's connection to the proxy is encrypted. */
    boolean tls();

    /** The CN of the client certificate verified against {@code tls.client_ca}, when one was presented. */
    default Optional<String> certCn() {
        return Optional.empty();
    }

    /**
     * How the client proved its identity: passthrough, to the server ({@code scram-sha-256},
     * {@code md5}, {@code password} or {@code trust}); {@code auth.mode: proxy}, to the proxy
     * ({@code scram}, {@code cert}, or {@code cert+scram} for users who need both); empty until
     * authentication completes.
     */
    Optional<String> authMethod();

    Phase phase();

    /** Transaction status from the last ReadyForQuery: 'I' idle, 'T' in a block, 'E' failed block. */
    char transactionStatus();

    /**
     * The parameters of the client's StartupMessage as sent ({@code options}, {@code search_path},
     * ...): policy needs the settings that change how SQL is read and names resolve.
     */
    default Map<String, String> startupParameters() {
        return Map.of();
    }

    /**
     * The current value of a run-time parameter the server reports in ParameterStatus
     * ({@code standard_conforming_strings}, {@code search_path} where the server reports it, ...).
     */
    default Optional<String> serverParameter(String name) {
        return Optional.empty();
    }

    /**
     * Runs {@code task} on the session's event loop, where {@link #idleSinceNanos()} and
     * {@link #terminate} may be called; safe from any thread.
     */
    default void execute(Runnable task) {
        throw new UnsupportedOperationException("this session has no event loop");
    }

    /**
     * On the session's event loop: the {@link System#nanoTime()} of the ReadyForQuery after which
     * nothing was asked of the server, or -1 while a request is in flight or waits for a decision.
     */
    default long idleSinceNanos() {
        return -1;
    }

    /** On the session's event loop: the {@link System#nanoTime()} of the last ReadyForQuery. */
    default long lastReadyNanos() {
        return -1;
    }

    /**
     * On the session's event loop: asks the server to cancel what the session is running, with a
     * CancelRequest as a client would send (the server answers 57014).
     */
    default void cancelRunningStatement() {
        throw new UnsupportedOperationException("this session cannot cancel");
    }

    /** On the session's event loop: ends the session with {@code error} (FATAL), as the server ends one. */
    default void terminate(dev.pgpolicy.proxy.wire.ErrorResponse error) {
        throw new UnsupportedOperationException("this session cannot be terminated");
    }
}
