package dev.pgpolicy.proxy.scram;

import dev.pgpolicy.proxy.wire.AuthenticationSASL;
import dev.pgpolicy.proxy.wire.AuthenticationSASLContinue;
import dev.pgpolicy.proxy.wire.AuthenticationSASLFinal;
import dev.pgpolicy.proxy.wire.Bytes;
import dev.pgpolicy.proxy.wire.SASLInitialResponse;
import dev.pgpolicy.proxy.wire.SASLResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Base64;
import java.util.Objects;
import java.util.Optional;

/**
 * The client side of one SCRAM-SHA-256 exchange, for logging in upstream with a service account's
 * password (RFC 5802, RFC 7677, with libpq's choices):
 * <pre>
 * proxy                                        server
 *                                     &lt;---  AuthenticationSASL (offer)
 *   {@link #initialResponse()}          ---&gt;  SASLInitialResponse   gs2-header, n=, r=client-nonce
 *                                     &lt;---  AuthenticationSASLContinue  r=nonce, s=salt, i=count
 *   {@link #onContinue}                 ---&gt;  SASLResponse          c=binding, r=nonce, p=ClientProof
 *                                     &lt;---  AuthenticationSASLFinal     v=ServerSignature
 *   {@link #onFinal}: verifies ServerSignature; then AuthenticationOk may be accepted
 * </pre>
 * A server that cannot produce the ServerSignature does not know the verifier: it is an impostor
 * (or a man in the middle), so {@link #onFinal} fails and the session must not accept the
 * AuthenticationOk that may follow; likewise an AuthenticationOk before {@link #succeeded()}.
 *
 * <p>Channel binding ({@code tls-server-end-point} of the upstream certificate) follows libpq's
 * {@code channel_binding}: with binding data and a -PLUS offer the exchange is bound ("p=");
 * with binding data but no -PLUS offer the client says "y" (so a server that did support binding
 * detects the downgrade); without TLS "n". Not thread-safe; one instance per exchange.
 */
public final class ScramClient implements AutoCloseable {

    /** As libpq's {@code channel_binding} connection parameter. */
    public enum ChannelBindingMode {
        DISABLE,
        PREFER,
        REQUIRE
    }

    public enum Stage {
        INITIAL,
        AWAITING_SERVER_FIRST,
        AWAITING_SERVER_FINAL,
        SUCCEEDED,
        FAILED
    }

    private final String mechanism;
    private final String gs2Header;
    private final Optional<ChannelBinding> binding;
    private final String clientNonce;
    private final String clientFirstBare;
    private final char[] password;
    private Stage stage = Stage.INITIAL;
    private byte[] serverSignature;

    private ScramClient(String mechanism, String gs2Header, Optional<ChannelBinding> binding, String user,
                        String clientNonce, char[] password) {
        this.mechanism = mechanism;
        this.gs2Header = gs2Header;
        this.binding = binding;
        this.clientNonce = clientNonce;
        this.clientFirstBare = "n=" + ScramMessageReader.encodeSaslName(user) + ",r=" + clientNonce;
        this.password = password.clone();
    }

    /**
     * Chooses the mechanism from the server's {@code offer}. {@code binding} is the upstream
     * certificate's binding when the upstream connection uses TLS. The password is copied and the
     * copy wiped once SaltedPassword is computed; the caller wipes its own array.
     */
    public static ScramClient start(AuthenticationSASL offer, char[] password, Optional<ChannelBinding> binding,
                                    ChannelBindingMode mode) throws ScramException {
        // libpq sends an empty user name: the server takes the startup packet's user.
        return start(offer, password, binding, mode, "", NonceSource.secureRandom());
    }

    static ScramClient start(AuthenticationSASL offer, char[] password, Optional<ChannelBinding> binding,
                             ChannelBindingMode mode, String user, NonceSource nonces) throws ScramException {
        Objects.requireNonNull(offer, "offer");
        Objects.requireNonNull(password, "password");
        Objects.requireNonNull(binding, "binding");
        Objects.requireNonNull(mode, "mode");
        boolean offersPlus = offer.mechanisms().contains(ScramCrypto.MECHANISM_PLUS);
        boolean offersPlain = offer.mechanisms().contains(ScramCrypto.MECHANISM);
        String nonce = nonces.next();
        try {
            ScramMessageReader.checkNonce(nonce);
        } catch (MalformedScramException e) {
            throw new IllegalArgumentException("nonce source produced an invalid nonce", e);
        }
        if (mode != ChannelBindingMode.DISABLE && binding.isPresent() && offersPlus) {
            return new ScramClient(ScramCrypto.MECHANISM_PLUS, "p=" + ChannelBinding.TLS_SERVER_END_POINT + ",,",
                    binding, user, nonce, password);
        }
        if (mode == ChannelBindingMode.REQUIRE) {
            throw new ScramException(binding.isEmpty()
                    ? "channel binding required, but the upstream connection has no TLS certificate to bind to"
                    : "channel binding required, but the server did not offer SCRAM-SHA-256-PLUS");
        }
        if (!offersPlain) {
            throw new ScramException("the server offers no SASL mechanism this client supports: "
                    + String.join(", ", offer.mechanisms()));
        }
        // RFC 5802 section 6: "y" when the client could bind but the server seems unable to.
        String flag = mode != ChannelBindingMode.DISABLE && binding.isPresent() ? "y" : "n";
        return new ScramClient(ScramCrypto.MECHANISM, flag + ",,", Optional.empty(), user, nonce, password);
    }

    public String mechanism() {
        return mechanism;
    }

    public Stage stage() {
        return stage;
    }

    /** True once the server proved its knowledge of the verifier; only then accept AuthenticationOk. */
    public boolean succeeded() {
        return stage == Stage.SUCCEEDED;
    }

    public boolean channelBound() {
        return binding.isPresent();
    }

    /** client-first-message := gs2-header client-first-message-bare. */
    public SASLInitialResponse initialResponse() {
        requireStage(Stage.INITIAL, "initialResponse");
        stage = Stage.AWAITING_SERVER_FIRST;
        return SASLInitialResponse.of(mechanism, Bytes.utf8(gs2Header + clientFirstBare));
    }

    /** Reads server-first-message and answers with client-final-message. */
    public SASLResponse onContinue(AuthenticationSASLContinue message) throws ScramException {
        requireStage(Stage.AWAITING_SERVER_FIRST, "server-first-message");
        byte[] normalized = null;
        byte[] saltedPassword = null;
        byte[] clientKey = null;
        byte[] storedKey = null;
        byte[] clientSignature = null;
        byte[] proof = null;
        byte[] serverKey = null;
        byte[] salt = null;
        try {
            ScramMessageReader in = ScramMessageReader.of(message.data().toByteArray(), "server-first-message");
            String serverFirst = in.text();
            if (in.peek() == 'm') {
                throw new MalformedScramException("The server requires an unsupported SCRAM extension.");
            }
            String nonce = in.attribute('r');
            ScramMessageReader.checkNonce(nonce);
            if (!nonce.startsWith(clientNonce) || nonce.length() == clientNonce.length()) {
                throw new MalformedScramException("The server's nonce does not extend the client's.");
            }
            salt = ScramMessageReader.base64(in.attribute('s'), "salt");
            if (salt.length == 0) {
                throw new MalformedScramException("The salt is empty.");
            }
            int iterations = iterations(in.attribute('i'));
            while (!in.atEnd()) {
                in.anyAttribute();
            }
            // c= base64(cbind-input), cbind-input := gs2-header [ cbind-data ]
            String clientFinalWithoutProof = "c=" + Base64.getEncoder().encodeToString(cbindInput()) + ",r=" + nonce;
            // AuthMessage := client-first-message-bare + "," + server-first-message + ","
            //                + client-final-message-without-proof
            byte[] authMessage = (clientFirstBare + "," + serverFirst + "," + clientFinalWithoutProof)
                    .getBytes(StandardCharsets.UTF_8);
            // SaltedPassword := Hi(Normalize(password), salt, i)
            normalized = SaslPrep.passwordBytes(password);
            saltedPassword = ScramCrypto.hi(normalized, salt, iterations);
            // ClientKey := HMAC(SaltedPassword, "Client Key"); StoredKey := H(ClientKey)
            clientKey = ScramCrypto.clientKey(saltedPassword);
            storedKey = ScramCrypto.sha256(clientKey);
            // ClientSignature := HMAC(StoredKey, AuthMessage); ClientProof := ClientKey XOR ClientSignature
            clientSignature = ScramCrypto.hmac(storedKey, authMessage);
            proof = ScramCrypto.xor(clientKey, clientSignature);
            // ServerKey := HMAC(SaltedPassword, "Server Key"); ServerSignature := HMAC(ServerKey, AuthMessage)
            serverKey = ScramCrypto.serverKey(saltedPassword);
            serverSignature = ScramCrypto.hmac(serverKey, authMessage);
            stage = Stage.AWAITING_SERVER_FINAL;
            return new SASLResponse(Bytes.utf8(clientFinalWithoutProof + ",p=" + Base64.getEncoder().encodeToString(proof)));
        } catch (MalformedScramException e) {
            throw failure("malformed server-first-message: " + e.getMessage());
        } finally {
            Arrays.fill(password, '\0');
            ScramCrypto.wipe(normalized, saltedPassword, clientKey, storedKey, clientSignature, proof, serverKey);
            if (stage != Stage.AWAITING_SERVER_FINAL) {
                stage = Stage.FAILED;
            }
        }
    }

    /**
     * server-final-message := (server-error / verifier) ["," extensions]; verifies
     * ServerSignature in constant time.
     */
    public void onFinal(AuthenticationSASLFinal message) throws ScramException {
        requireStage(Stage.AWAITING_SERVER_FINAL, "server-final-message");
        byte[] received = null;
        try {
            ScramMessageReader in = ScramMessageReader.of(message.data().toByteArray(), "server-final-message");
            if (in.peek() == 'e') {
                String error = in.attribute('e');
                throw failure("the server rejected the authentication: "
                        + (error.matches("[a-z-]{1,40}") ? error : "(unreadable server-error)"));
            }
            received = ScramMessageReader.base64(in.attribute('v'), "server signature");
            while (!in.atEnd()) {
                in.anyAttribute();
            }
            if (!MessageDigest.isEqual(received, serverSignature)) {
                throw failure("the server's signature does not verify: it does not know this account's "
                        + "verifier (wrong server, or a man in the middle)");
            }
            stage = Stage.SUCCEEDED;
        } catch (MalformedScramException e) {
            throw failure("malformed server-final-message: " + e.getMessage());
        } finally {
            ScramCrypto.wipe(received, serverSignature);
        }
    }

    /** Wipes the password copy if the exchange is abandoned early. */
    @Override
    public void close() {
        Arrays.fill(password, '\0');
        ScramCrypto.wipe(serverSignature);
        if (stage != Stage.SUCCEEDED) {
            stage = Stage.FAILED;
        }
    }

    private byte[] cbindInput() {
        byte[] header = gs2Header.getBytes(StandardCharsets.US_ASCII);
        if (binding.isEmpty()) {
            return header;
        }
        byte[] data = binding.get().dataView();
        byte[] input = Arrays.copyOf(header, header.length + data.length);
        System.arraycopy(data, 0, input, header.length, data.length);
        return input;
    }

    private static int iterations(String text) throws MalformedScramException {
        int iterations;
        try {
            iterations = Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw new MalformedScramException("The iteration count is not a number.");
        }
        if (iterations < 1 || iterations > ScramVerifier.MAX_ITERATIONS) {
            throw new MalformedScramException("The iteration count is outside 1.." + ScramVerifier.MAX_ITERATIONS + ".");
        }
        return iterations;
    }

    private void requireStage(Stage expected, String step) {
        if (stage != expected) {
            // A session that calls out of order has a bug; failing loudly keeps it from accepting
            // an unauthenticated upstream.
            IllegalStateException bug = new IllegalStateException("SCRAM client: " + step + " in stage " + stage);
            close();
            throw bug;
        }
    }

    private ScramException failure(String message) {
        stage = Stage.FAILED;
        close();
        return new ScramException(message);
    }

    @Override
    public String toString() {
        return "ScramClient[" + mechanism + ", stage=" + stage + "]";
    }
}
