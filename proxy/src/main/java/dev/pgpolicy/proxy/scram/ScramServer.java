package dev.pgpolicy.proxy.scram;

import dev.pgpolicy.proxy.wire.AuthenticationSASL;
import dev.pgpolicy.proxy.wire.AuthenticationSASLContinue;
import dev.pgpolicy.proxy.wire.AuthenticationSASLFinal;
import dev.pgpolicy.proxy.wire.Bytes;
import dev.pgpolicy.proxy.wire.ErrorResponse;
import dev.pgpolicy.proxy.wire.SASLInitialResponse;
import dev.pgpolicy.proxy.wire.SASLResponse;
import dev.pgpolicy.proxy.wire.SqlState;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The server side of one SCRAM-SHA-256 exchange (RFC 5802, RFC 7677), as PostgreSQL runs it
 * (src/backend/libpq/auth-scram.c), for the proxy to authenticate a client itself:
 * <pre>
 * proxy                                   client
 *   AuthenticationSASL {@link #offer()}  ---&gt;
 *                                  &lt;---  SASLInitialResponse  gs2-header, n=, r=client-nonce
 *   AuthenticationSASLContinue     ---&gt;   r=client-nonce+server-nonce, s=salt, i=iterations
 *                                  &lt;---  SASLResponse         c=binding, r=nonce, p=ClientProof
 *   AuthenticationSASLFinal        ---&gt;   v=ServerSignature        (or ErrorResponse 28P01)
 * </pre>
 * The session sends AuthenticationOk after {@link Success}. The user is the startup packet's
 * {@code user}; the client-first-message's user name is ignored, as PostgreSQL ignores it.
 *
 * <p>Every input is untrusted: each method returns an {@link Outcome} and never throws on a
 * malformed message; a call out of order fails the exchange; after a failure every call fails.
 * Unknown users run the same exchange against a {@link MockVerifiers} verifier and fail exactly
 * like a wrong password. Not thread-safe: one instance per connection, driven by its event loop.
 */
public final class ScramServer {

    /** Where the exchange stands; each method runs only in its stage. */
    public enum Stage {
        AWAITING_INITIAL_RESPONSE,
        /** The client sent SASLInitialResponse without data; its client-first-message comes next. */
        AWAITING_CLIENT_FIRST,
        AWAITING_CLIENT_FINAL,
        SUCCEEDED,
        FAILED
    }

    /** What to send the client after a message. */
    public sealed interface Outcome permits Challenge, Success, Failure {
    }

    /** Send {@code message} and wait for the client's SASLResponse. */
    public record Challenge(AuthenticationSASLContinue message) implements Outcome {
    }

    /** Send {@code message}, then AuthenticationOk: the client proved it knows the password. */
    public record Success(AuthenticationSASLFinal message) implements Outcome {
    }

    /** Send {@link #toErrorResponse()} (FATAL) and close; the detail is safe to send. */
    public record Failure(SqlState sqlState, String message, Optional<String> detail) implements Outcome {
        public Failure {
            Objects.requireNonNull(sqlState, "sqlState");
            Objects.requireNonNull(message, "message");
            Objects.requireNonNull(detail, "detail");
        }

        public ErrorResponse toErrorResponse() {
            return ErrorResponse.of(ErrorResponse.SEVERITY_FATAL, sqlState, message, detail.orElse(null));
        }
    }

    private final String user;
    private final ScramVerifier verifier;
    /** True when the verifier is a mock: the exchange runs to the end and then fails. */
    private final boolean doomed;
    private final Optional<ChannelBinding> channelBinding;
    private final NonceSource nonces;

    private Stage stage = Stage.AWAITING_INITIAL_RESPONSE;
    private boolean plusSelected;
    private String gs2Header;
    private String clientFirstBare;
    private String serverFirst;
    private String nonce;

    private ScramServer(String user, ScramVerifier verifier, boolean doomed,
                        Optional<ChannelBinding> channelBinding, NonceSource nonces) {
        this.user = Objects.requireNonNull(user, "user");
        this.verifier = verifier;
        this.doomed = doomed;
        this.channelBinding = Objects.requireNonNull(channelBinding, "channelBinding");
        this.nonces = Objects.requireNonNull(nonces, "nonces");
    }

    /**
     * An exchange for startup user {@code user}, whose stored verifier is {@code verifier} (empty
     * when the user is unknown or has no password: then {@code mocks} supplies one and the exchange
     * fails at the proof). {@code channelBinding} is the binding of the proxy's own certificate
     * when the proxy terminates TLS on this connection; only then is SCRAM-SHA-256-PLUS offered.
     */
    public static ScramServer start(String user, Optional<ScramVerifier> verifier, MockVerifiers mocks,
                                    Optional<ChannelBinding> channelBinding) {
        return start(user, verifier, mocks, channelBinding, NonceSource.secureRandom());
    }

    static ScramServer start(String user, Optional<ScramVerifier> verifier, MockVerifiers mocks,
                             Optional<ChannelBinding> channelBinding, NonceSource nonces) {
        Objects.requireNonNull(verifier, "verifier");
        Objects.requireNonNull(mocks, "mocks");
        // The mock is derived for every user, known or not, so both paths do the same work.
        ScramVerifier mock = mocks.forUser(user);
        if (verifier.isEmpty()) {
            return new ScramServer(user, mock, true, channelBinding, nonces);
        }
        mock.wipe();
        // A private copy: the exchange wipes its verifier when it ends.
        return new ScramServer(user, verifier.get().copy(), false, channelBinding, nonces);
    }

    /** The mechanisms to offer, strongest first (PostgreSQL's order). */
    public List<String> mechanisms() {
        return channelBinding.isPresent()
                ? List.of(ScramCrypto.MECHANISM_PLUS, ScramCrypto.MECHANISM)
                : List.of(ScramCrypto.MECHANISM);
    }

    /** The AuthenticationSASL message that starts the exchange. */
    public AuthenticationSASL offer() {
        return new AuthenticationSASL(mechanisms());
    }

    public Stage stage() {
        return stage;
    }

    /** Whether the client bound the exchange to the proxy's certificate (SCRAM-SHA-256-PLUS). */
    public boolean channelBound() {
        return stage == Stage.SUCCEEDED && plusSelected;
    }

    public Outcome onInitialResponse(SASLInitialResponse message) {
        if (stage != Stage.AWAITING_INITIAL_RESPONSE) {
            return outOfOrder("SASLInitialResponse");
        }
        if (!mechanisms().contains(message.mechanism())) {
            return fail(SqlState.PROTOCOL_VIOLATION, "client selected an invalid SASL authentication mechanism", null);
        }
        plusSelected = ScramCrypto.MECHANISM_PLUS.equals(message.mechanism());
        if (message.initialResponse().isEmpty()) {
            // RFC 4422 section 5: without an initial response the server sends an empty
            // challenge, and the client-first-message arrives in the next SASLResponse.
            stage = Stage.AWAITING_CLIENT_FIRST;
            return new Challenge(new AuthenticationSASLContinue(Bytes.EMPTY));
        }
        return clientFirst(message.initialResponse().get().toByteArray());
    }

    public Outcome onResponse(SASLResponse message) {
        switch (stage) {
            case AWAITING_CLIENT_FIRST:
                return clientFirst(message.data().toByteArray());
            case AWAITING_CLIENT_FINAL:
                return clientFinal(message.data().toByteArray());
            case AWAITING_INITIAL_RESPONSE:
            case SUCCEEDED:
            case FAILED:
                return outOfOrder("SASLResponse");
        }
        throw new AssertionError(stage);
    }

    /*
     * client-first-message      = gs2-header client-first-message-bare
     * gs2-header                = gs2-cbind-flag "," [ authzid ] ","
     * gs2-cbind-flag            = ("p=" cb-name) / "n" / "y"
     * client-first-message-bare = [reserved-mext ","] username "," nonce ["," extensions]
     */
    private Outcome clientFirst(byte[] data) {
        try {
            ScramMessageReader in = ScramMessageReader.of(data, "client-first-message");
            Outcome refusal = channelBindingFlag(in);
            if (refusal != null) {
                return refusal;
            }
            if (in.peek() == 'a') {
                return fail(SqlState.FEATURE_NOT_SUPPORTED,
                        "client uses authorization identity, but it is not supported", null);
            }
            in.expect(',', "after the authorization identity");
            gs2Header = in.text().substring(0, in.position());
            clientFirstBare = in.text().substring(in.position());
            if (in.peek() == 'm') {
                return fail(SqlState.FEATURE_NOT_SUPPORTED, "client requires an unsupported SCRAM extension", null);
            }
            // The user name is checked for form and ignored: the startup packet's user counts.
            ScramMessageReader.decodeSaslName(in.attribute('n'));
            String clientNonce = in.attribute('r');
            ScramMessageReader.checkNonce(clientNonce);
            while (!in.atEnd()) {
                in.anyAttribute();
            }
            String serverNonce = nonces.next();
            ScramMessageReader.checkNonce(serverNonce);
            nonce = clientNonce + serverNonce;
            serverFirst = "r=" + nonce + ",s=" + Base64.getEncoder().encodeToString(verifier.salt())
                    + ",i=" + verifier.iterations();
            stage = Stage.AWAITING_CLIENT_FINAL;
            return new Challenge(new AuthenticationSASLContinue(Bytes.utf8(serverFirst)));
        } catch (MalformedScramException e) {
            return malformed(e);
        }
    }

    /**
     * Reads the gs2-cbind-flag and the ',' after it, checking the flag against the chosen mechanism
     * and the offer; returns the failure, or null when the flag is acceptable.
     */
    private Outcome channelBindingFlag(ScramMessageReader in) throws MalformedScramException {
        char flag = in.peek();
        if (flag == 'p') {
            String type = in.attribute('p');
            if (in.position() == 0 || in.text().charAt(in.position() - 1) != ',') {
                throw new MalformedScramException("Expected character \",\" after the channel-binding flag.");
            }
            if (!plusSelected) {
                return fail(SqlState.PROTOCOL_VIOLATION, "malformed SCRAM message",
                        "The client selected SCRAM-SHA-256 without channel binding, but the SCRAM "
                                + "message includes channel binding data.");
            }
            if (!ChannelBinding.TLS_SERVER_END_POINT.equals(type)) {
                return fail(SqlState.PROTOCOL_VIOLATION, "unsupported SCRAM channel-binding type", null);
            }
            return null;
        }
        if (flag != 'n' && flag != 'y') {
            throw new MalformedScramException("Unexpected channel-binding flag.");
        }
        if (plusSelected) {
            return fail(SqlState.PROTOCOL_VIOLATION, "malformed SCRAM message",
                    "The client selected SCRAM-SHA-256-PLUS, but the SCRAM message does not "
                            + "include channel binding data.");
        }
        if (flag == 'y' && channelBinding.isPresent()) {
            // RFC 5802 section 6: "y" means the client could bind but believes the server cannot.
            // This server offered -PLUS, so something between removed it from the offer.
            return fail(SqlState.INVALID_AUTHORIZATION_SPECIFICATION, "SCRAM channel binding negotiation error",
                    "The client supports SCRAM channel binding but thinks the server does not.  "
                            + "However, this server does support channel binding.");
        }
        in.expect(flag, "as channel-binding flag");
        in.expect(',', "after the channel-binding flag");
        return null;
    }

    /*
     * client-final-message-without-proof = channel-binding "," nonce ["," extensions]
     * client-final-message               = client-final-message-without-proof "," proof
     */
    private Outcome clientFinal(byte[] data) {
        byte[] proof = null;
        byte[] clientSignature = null;
        byte[] clientKey = null;
        byte[] computedStoredKey = null;
        byte[] serverSignature = null;
        try {
            ScramMessageReader in = ScramMessageReader.of(data, "client-final-message");
            byte[] binding = ScramMessageReader.base64(in.attribute('c'), "channel binding");
            byte[] expected = expectedBinding();
            if (!MessageDigest.isEqual(binding, expected)) {
                return plusSelected
                        ? fail(SqlState.INVALID_AUTHORIZATION_SPECIFICATION, "SCRAM channel binding check failed", null)
                        : fail(SqlState.PROTOCOL_VIOLATION, "unexpected SCRAM channel-binding attribute in client-final-message", null);
            }
            String finalNonce = in.attribute('r');
            if (!MessageDigest.isEqual(finalNonce.getBytes(StandardCharsets.UTF_8), nonce.getBytes(StandardCharsets.UTF_8))) {
                throw new MalformedScramException("Nonce does not match.");
            }
            int proofStart;
            while (true) {
                proofStart = in.position();
                if (in.peek() == 'p') {
                    break;
                }
                in.anyAttribute();
            }
            String proofValue = in.attribute('p');
            if (!in.atEnd() || in.text().endsWith(",")) {
                throw new MalformedScramException("Garbage found at the end of client-final-message.");
            }
            proof = ScramMessageReader.base64(proofValue, "proof");
            if (proof.length != ScramCrypto.KEY_LENGTH) {
                throw new MalformedScramException("Malformed proof in client-final-message.");
            }
            // proofStart points after the ',' that precedes "p="; the message without proof ends before it.
            String clientFinalWithoutProof = in.text().substring(0, proofStart - 1);
            // AuthMessage := client-first-message-bare + "," + server-first-message + ","
            //                + client-final-message-without-proof
            byte[] authMessage = (clientFirstBare + "," + serverFirst + "," + clientFinalWithoutProof)
                    .getBytes(StandardCharsets.UTF_8);
            // ClientSignature := HMAC(StoredKey, AuthMessage)
            clientSignature = ScramCrypto.hmac(verifier.storedKeyView(), authMessage);
            // ClientKey := ClientProof XOR ClientSignature; the client knows the password iff
            // H(ClientKey) == StoredKey (compared in constant time).
            clientKey = ScramCrypto.xor(proof, clientSignature);
            computedStoredKey = ScramCrypto.sha256(clientKey);
            boolean proven = MessageDigest.isEqual(computedStoredKey, verifier.storedKeyView());
            // ServerSignature := HMAC(ServerKey, AuthMessage), computed on every path for equal work.
            serverSignature = ScramCrypto.hmac(verifier.serverKeyView(), authMessage);
            if (!proven || doomed) {
                return fail(SqlState.INVALID_PASSWORD, "password authentication failed for user \"" + user + "\"", null);
            }
            stage = Stage.SUCCEEDED;
            return new Success(new AuthenticationSASLFinal(
                    Bytes.utf8("v=" + Base64.getEncoder().encodeToString(serverSignature))));
        } catch (MalformedScramException e) {
            return malformed(e);
        } finally {
            ScramCrypto.wipe(proof, clientSignature, clientKey, computedStoredKey, serverSignature);
            if (stage != Stage.AWAITING_CLIENT_FINAL) {
                verifier.wipe();
            }
        }
    }

    /** cbind-input := gs2-header [ cbind-data ] (the latter only with "p="). */
    private byte[] expectedBinding() {
        byte[] header = gs2Header.getBytes(StandardCharsets.UTF_8);
        if (!plusSelected) {
            return header;
        }
        byte[] data = channelBinding.orElseThrow().dataView();
        byte[] input = new byte[header.length + data.length];
        System.arraycopy(header, 0, input, 0, header.length);
        System.arraycopy(data, 0, input, header.length, data.length);
        return input;
    }

    private Outcome malformed(MalformedScramException e) {
        return fail(SqlState.PROTOCOL_VIOLATION, "malformed SCRAM message", e.getMessage());
    }

    private Outcome outOfOrder(String message) {
        return fail(SqlState.PROTOCOL_VIOLATION, "unexpected " + message + " during SCRAM authentication", null);
    }

    private Failure fail(SqlState state, String message, String detail) {
        stage = Stage.FAILED;
        verifier.wipe();
        return new Failure(state, message, Optional.ofNullable(detail));
    }

    @Override
    public String toString() {
        return "ScramServer[user=" + user + ", stage=" + stage + "]";
    }
}
