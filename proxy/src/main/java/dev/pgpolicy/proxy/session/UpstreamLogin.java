package dev.pgpolicy.proxy.session;

import dev.pgpolicy.proxy.identity.UpstreamAccount;
import dev.pgpolicy.proxy.scram.ChannelBinding;
import dev.pgpolicy.proxy.scram.Md5Password;
import dev.pgpolicy.proxy.scram.ScramClient;
import dev.pgpolicy.proxy.scram.ScramException;
import dev.pgpolicy.proxy.wire.Authentication;
import dev.pgpolicy.proxy.wire.AuthenticationCleartextPassword;
import dev.pgpolicy.proxy.wire.AuthenticationMD5Password;
import dev.pgpolicy.proxy.wire.AuthenticationOk;
import dev.pgpolicy.proxy.wire.AuthenticationSASL;
import dev.pgpolicy.proxy.wire.AuthenticationSASLContinue;
import dev.pgpolicy.proxy.wire.AuthenticationSASLFinal;
import dev.pgpolicy.proxy.wire.Bytes;
import dev.pgpolicy.proxy.wire.FrontendMessage;
import dev.pgpolicy.proxy.wire.PasswordMessage;
import dev.pgpolicy.proxy.wire.ProtocolException;
import dev.pgpolicy.proxy.wire.SqlState;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Optional;

/**
 * The proxy's own login to the server as a service account ({@code auth.mode: proxy}): answers
 * the server's authentication requests with the account's password, as libpq would ("Message
 * Flow: Start-up"). The server is believed only when it has proved itself: after SCRAM,
 * AuthenticationOk counts only once the client side verified the ServerSignature (RFC 5802
 * section 3), so a server that skips the proof cannot take over the session.
 *
 * <pre>
 *   AWAITING_REQUEST ──SASL──► SCRAM ──SASLContinue──► SCRAM ──SASLFinal (verified)──► AWAITING_OK
 *        ├──MD5 / cleartext──────────────────────────────────────────────────────────► AWAITING_OK
 *        └──Ok (trust)──► DONE                                          AWAITING_OK ──Ok──► DONE
 * </pre>
 */
final class UpstreamLogin implements AutoCloseable {

    enum Stage { AWAITING_REQUEST, SCRAM, AWAITING_OK, DONE }

    private final UpstreamAccount account;
    private final Optional<ChannelBinding> upstreamBinding;
    private final boolean upstreamEncrypted;
    private Stage stage = Stage.AWAITING_REQUEST;
    private ScramClient scram;

    /**
     * @param upstreamBinding   the server certificate's tls-server-end-point binding, when the
     *                          upstream connection uses TLS
     * @param upstreamEncrypted whether a cleartext password request may be answered
     */
    UpstreamLogin(UpstreamAccount account, Optional<ChannelBinding> upstreamBinding, boolean upstreamEncrypted) {
        this.account = account;
        this.upstreamBinding = upstreamBinding;
        this.upstreamEncrypted = upstreamEncrypted;
    }

    Stage stage() {
        return stage;
    }

    boolean done() {
        return stage == Stage.DONE;
    }

    /** The answer to send to the server, or empty when none is due (SASLFinal, or Ok ending the login). */
    Optional<FrontendMessage> onServer(Authentication request) {
        switch (stage) {
            case AWAITING_REQUEST:
                return onFirstRequest(request);
            case SCRAM:
                return onScram(request);
            case AWAITING_OK:
                if (request instanceof AuthenticationOk) {
                    stage = Stage.DONE;
                    close();
                    return Optional.empty();
                }
                throw violation("sent " + name(request) + " after the service account's credentials");
            case DONE:
                throw violation("sent " + name(request) + " after AuthenticationOk");
        }
        throw new AssertionError(stage);
    }

    private Optional<FrontendMessage> onFirstRequest(Authentication request) {
        if (request instanceof AuthenticationOk) {
            // The server trusts this connection (pg_hba.conf "trust" or "cert"): its choice, as for libpq.
            stage = Stage.DONE;
            return Optional.empty();
        }
        char[] password = account.password().reveal();
        try {
            if (request instanceof AuthenticationSASL offer) {
                try {
                    scram = ScramClient.start(offer, password, upstreamBinding, ScramClient.ChannelBindingMode.PREFER);
                } catch (ScramException e) {
                    throw loginFailed(e.getMessage());
                }
                stage = Stage.SCRAM;
                return Optional.of(scram.initialResponse());
            }
            if (request instanceof AuthenticationMD5Password md5) {
                stage = Stage.AWAITING_OK;
                return Optional.of(Md5Password.response(account.user(), password, md5.salt()));
            }
            if (request instanceof AuthenticationCleartextPassword) {
                if (!upstreamEncrypted) {
                    // Fail closed: the account's password would cross the network readable by anyone on the path.
                    throw loginFailed("the server asked for a cleartext password over an unencrypted connection;"
                            + " enable upstream TLS or configure scram-sha-256 for this role");
                }
                stage = Stage.AWAITING_OK;
                return Optional.of(new PasswordMessage(utf8(password)));
            }
        } finally {
            Arrays.fill(password, '\0');
        }
        throw loginFailed("the server requested an authentication method pgpolicy cannot answer (code "
                + request.code() + "); use scram-sha-256 or md5 for the service account");
    }

    private Optional<FrontendMessage> onScram(Authentication request) {
        try {
            if (request instanceof AuthenticationSASLContinue challenge) {
                return Optional.of(scram.onContinue(challenge));
            }
            if (request instanceof AuthenticationSASLFinal outcome) {
                scram.onFinal(outcome);
                stage = Stage.AWAITING_OK;
                return Optional.empty();
            }
        } catch (ScramException e) {
            throw loginFailed(e.getMessage());
        }
        if (request instanceof AuthenticationOk) {
            // AuthenticationOk before a verified server-final-message: the server never proved it knows the verifier.
            throw loginFailed("the server accepted the login without proving its identity (no SCRAM server signature)");
        }
        throw violation("sent " + name(request) + " in the middle of the SASL exchange");
    }

    private static Bytes utf8(char[] password) {
        ByteBuffer encoded = StandardCharsets.UTF_8.encode(CharBuffer.wrap(password));
        byte[] bytes = new byte[encoded.remaining()];
        encoded.get(bytes);
        Arrays.fill(encoded.array(), (byte) 0);
        return Bytes.of(bytes);
    }

    private SessionException loginFailed(String reason) {
        return new SessionException(SqlState.CONNECTION_FAILURE, "pgpolicy could not log in to the upstream server"
                + " as service account " + account.name() + ": " + reason);
    }

    private static String name(Authentication message) {
        return message.getClass().getSimpleName();
    }

    private static ProtocolException violation(String what) {
        return new ProtocolException(SqlState.PROTOCOL_VIOLATION, "the upstream server " + what);
    }

    @Override
    public void close() {
        if (scram != null) {
            scram.close();
        }
    }
}
