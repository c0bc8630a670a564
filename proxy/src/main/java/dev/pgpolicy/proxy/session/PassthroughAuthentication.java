package dev.pgpolicy.proxy.session;

import dev.pgpolicy.proxy.wire.Authentication;
import dev.pgpolicy.proxy.wire.AuthenticationCleartextPassword;
import dev.pgpolicy.proxy.wire.AuthenticationMD5Password;
import dev.pgpolicy.proxy.wire.AuthenticationOk;
import dev.pgpolicy.proxy.wire.AuthenticationSASL;
import dev.pgpolicy.proxy.wire.AuthenticationSASLContinue;
import dev.pgpolicy.proxy.wire.AuthenticationSASLFinal;
import dev.pgpolicy.proxy.wire.FrontendMessages;
import dev.pgpolicy.proxy.wire.ProtocolException;
import dev.pgpolicy.proxy.wire.RawFrame;
import dev.pgpolicy.proxy.wire.SASLInitialResponse;
import dev.pgpolicy.proxy.wire.SqlState;
import java.util.List;
import java.util.Optional;

/**
 * The passthrough authentication exchange, one stage at a time: the server asks, the client
 * answers, until AuthenticationOk. The server stays the judge of credentials; this class only
 * makes sure each side speaks in turn and in the order the protocol allows ("Message Flow:
 * Start-up", "SASL Authentication"), and that the answers are well formed before they are relayed.
 *
 * <pre>
 *   AWAITING_REQUEST ──SASL──► AWAITING_SASL_INITIAL ──client──► AWAITING_SASL_OUTCOME
 *        │                                                  ▲          │ SASLContinue
 *        │                        AWAITING_SASL_RESPONSE ◄──┼──────────┘
 *        │                                 └──client────────┘          │ SASLFinal
 *        ├──MD5 / cleartext──► AWAITING_PASSWORD ──client──► AWAITING_RESULT ◄─┘
 *        └──────────────────────────── Ok (trust) ─────────► DONE ◄── Ok ──┘
 * </pre>
 */
final class PassthroughAuthentication {

    static final String SCRAM_SHA_256 = "SCRAM-SHA-256";
    static final String SCRAM_SHA_256_PLUS = "SCRAM-SHA-256-PLUS";

    enum Stage {
        /** Nothing asked yet. */
        AWAITING_REQUEST,
        /** The server asked for a cleartext or MD5 password. */
        AWAITING_PASSWORD,
        /** The server offered SASL mechanisms; the client picks one. */
        AWAITING_SASL_INITIAL,
        /** The client answered; the server continues, finishes or fails the SASL exchange. */
        AWAITING_SASL_OUTCOME,
        /** The server sent a SASL challenge; the client responds. */
        AWAITING_SASL_RESPONSE,
        /** The credentials are with the server; only AuthenticationOk (or an error) may follow. */
        AWAITING_RESULT,
        /** AuthenticationOk. */
        DONE
    }

    private Stage stage = Stage.AWAITING_REQUEST;
    private String method;
    private List<String> offeredMechanisms = List.of();

    Stage stage() {
        return stage;
    }

    /**
     * {@code scram-sha-256}, {@code md5}, {@code password} or {@code trust}; null until done. Not an
     * Optional: the session asks for it several times per statement.
     */
    String methodOrNull() {
        return stage == Stage.DONE ? method : null;
    }

    /**
     * Takes the server's next authentication message. Returns the message the client must see
     * instead, or empty when the server's frame is relayed as it is.
     */
    Optional<Authentication> onServer(Authentication message) {
        switch (stage) {
            case AWAITING_REQUEST:
                return onFirstRequest(message);
            case AWAITING_SASL_OUTCOME:
                if (message instanceof AuthenticationSASLContinue) {
                    stage = Stage.AWAITING_SASL_RESPONSE;
                    return Optional.empty();
                }
                if (message instanceof AuthenticationSASLFinal) {
                    // RFC 5802 section 3: the server-final-message ends the exchange.
                    stage = Stage.AWAITING_RESULT;
                    return Optional.empty();
                }
                throw violation("sent " + name(message) + " in the middle of the SASL exchange");
            case AWAITING_RESULT:
                if (message instanceof AuthenticationOk) {
                    stage = Stage.DONE;
                    return Optional.empty();
                }
                throw violation("sent " + name(message) + " after the client's credentials");
            case AWAITING_PASSWORD:
            case AWAITING_SASL_INITIAL:
            case AWAITING_SASL_RESPONSE:
                throw violation("sent " + name(message) + " before the client answered");
            case DONE:
                throw violation("sent " + name(message) + " after AuthenticationOk");
        }
        throw new AssertionError(stage);
    }

    private Optional<Authentication> onFirstRequest(Authentication message) {
        if (message instanceof AuthenticationOk) {
            method = "trust";
            stage = Stage.DONE;
            return Optional.empty();
        }
        if (message instanceof AuthenticationSASL sasl) {
            // The proxy terminates the client's TLS, so a channel binding would bind to the proxy's
            // certificate, never the server's: SCRAM-SHA-256-PLUS cannot succeed through it.
            if (!sasl.mechanisms().contains(SCRAM_SHA_256)) {
                throw new SessionException(SqlState.FEATURE_NOT_SUPPORTED,
                        "the server offers no SASL mechanism pgpolicy can relay: " + sasl.mechanisms());
            }
            AuthenticationSASL offer = sasl.without(SCRAM_SHA_256_PLUS);
            method = "scram-sha-256";
            offeredMechanisms = offer.mechanisms();
            stage = Stage.AWAITING_SASL_INITIAL;
            return Optional.of(offer);
        }
        if (message instanceof AuthenticationMD5Password) {
            method = "md5";
            stage = Stage.AWAITING_PASSWORD;
            return Optional.empty();
        }
        if (message instanceof AuthenticationCleartextPassword) {
            method = "password";
            stage = Stage.AWAITING_PASSWORD;
            return Optional.empty();
        }
        throw new SessionException(SqlState.FEATURE_NOT_SUPPORTED, "the server requested an authentication method"
                + " pgpolicy cannot relay (code " + message.code() + "); use scram-sha-256, md5 or password");
    }

    /** Checks the client's 'p' message against what the server asked for; throws when it does not fit. */
    void onClient(RawFrame answer) {
        switch (stage) {
            case AWAITING_PASSWORD:
                FrontendMessages.decodePassword(answer);
                stage = Stage.AWAITING_RESULT;
                return;
            case AWAITING_SASL_INITIAL:
                SASLInitialResponse initial = FrontendMessages.decodeSaslInitialResponse(answer);
                if (!offeredMechanisms.contains(initial.mechanism())) {
                    throw new ProtocolException("client selected an invalid SASL authentication mechanism");
                }
                stage = Stage.AWAITING_SASL_OUTCOME;
                return;
            case AWAITING_SASL_RESPONSE:
                FrontendMessages.decodeSaslResponse(answer);
                stage = Stage.AWAITING_SASL_OUTCOME;
                return;
            case AWAITING_REQUEST:
            case AWAITING_SASL_OUTCOME:
            case AWAITING_RESULT:
            case DONE:
                throw new ProtocolException("unexpected authentication response: the server asked for none");
        }
        throw new AssertionError(stage);
    }

    private static String name(Authentication message) {
        return message.getClass().getSimpleName();
    }

    private static ProtocolException violation(String what) {
        return new ProtocolException(SqlState.PROTOCOL_VIOLATION, "the upstream server " + what);
    }
}
