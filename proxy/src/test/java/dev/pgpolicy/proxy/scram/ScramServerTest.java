package dev.pgpolicy.proxy.scram;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpolicy.proxy.wire.AuthenticationSASL;
import dev.pgpolicy.proxy.wire.Bytes;
import dev.pgpolicy.proxy.wire.ErrorField;
import dev.pgpolicy.proxy.wire.SASLInitialResponse;
import dev.pgpolicy.proxy.wire.SASLResponse;
import dev.pgpolicy.proxy.wire.SqlState;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ScramServerTest {
    private static final MockVerifiers MOCKS = MockVerifiers.random(4096);
    private static final ScramVerifier ANA = ScramVerifier.generate("s3cret".toCharArray(), 4096, new SecureRandom());
    private static final ChannelBinding PROXY_CERT = ChannelBinding.of(new byte[] {1, 2, 3, 4, 5, 6, 7, 8});

    /** Drives our client against our server; returns the server's last outcome. */
    private static ScramServer.Outcome exchange(ScramServer server, ScramClient client) throws ScramException {
        AuthenticationSASL offer = server.offer();
        ScramServer.Outcome first = server.onInitialResponse(client.initialResponse());
        if (!(first instanceof ScramServer.Challenge challenge)) {
            return first;
        }
        ScramServer.Outcome last = server.onResponse(client.onContinue(challenge.message()));
        if (last instanceof ScramServer.Success success) {
            client.onFinal(success.message());
        }
        assertThat(offer.mechanisms()).isNotEmpty();
        return last;
    }

    private static ScramClient client(ScramServer server, String password, Optional<ChannelBinding> binding)
            throws ScramException {
        return ScramClient.start(server.offer(), password.toCharArray(), binding, ScramClient.ChannelBindingMode.PREFER);
    }

    @Test
    void rightPasswordSucceedsWithoutTls() throws ScramException {
        ScramServer server = ScramServer.start("ana", Optional.of(ANA), MOCKS, Optional.empty());
        assertThat(server.mechanisms()).containsExactly("SCRAM-SHA-256");
        ScramClient client = client(server, "s3cret", Optional.empty());
        assertThat(exchange(server, client)).isInstanceOf(ScramServer.Success.class);
        assertThat(client.succeeded()).isTrue();
        assertThat(server.channelBound()).isFalse();
    }

    @Test
    void sharedVerifierSurvivesManyExchanges() throws ScramException {
        for (int i = 0; i < 3; i++) {
            ScramServer server = ScramServer.start("ana", Optional.of(ANA), MOCKS, Optional.empty());
            assertThat(exchange(server, client(server, "s3cret", Optional.empty()))).isInstanceOf(ScramServer.Success.class);
        }
        ScramServer failing = ScramServer.start("ana", Optional.of(ANA), MOCKS, Optional.empty());
        exchange(failing, client(failing, "nope", Optional.empty()));
        ScramServer again = ScramServer.start("ana", Optional.of(ANA), MOCKS, Optional.empty());
        assertThat(exchange(again, client(again, "s3cret", Optional.empty()))).isInstanceOf(ScramServer.Success.class);
    }

    @Test
    void channelBindingToTheProxyCertificateSucceeds() throws ScramException {
        ScramServer server = ScramServer.start("ana", Optional.of(ANA), MOCKS, Optional.of(PROXY_CERT));
        assertThat(server.mechanisms()).containsExactly("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256");
        ScramClient client = client(server, "s3cret", Optional.of(PROXY_CERT));
        assertThat(client.mechanism()).isEqualTo("SCRAM-SHA-256-PLUS");
        assertThat(exchange(server, client)).isInstanceOf(ScramServer.Success.class);
        assertThat(server.channelBound()).isTrue();
    }

    @Test
    void bindingToAnotherCertificateFails() throws ScramException {
        // A man in the middle terminating TLS with its own certificate: the client binds to that one.
        ScramServer server = ScramServer.start("ana", Optional.of(ANA), MOCKS, Optional.of(PROXY_CERT));
        ScramClient client = client(server, "s3cret", Optional.of(ChannelBinding.of(new byte[] {9, 9, 9})));
        ScramServer.Outcome outcome = exchange(server, client);
        assertThat(outcome).isInstanceOf(ScramServer.Failure.class);
        assertThat(((ScramServer.Failure) outcome).message()).isEqualTo("SCRAM channel binding check failed");
        assertThat(((ScramServer.Failure) outcome).sqlState()).isEqualTo(SqlState.INVALID_AUTHORIZATION_SPECIFICATION);
    }

    @Test
    void downgradeFlagYFailsWhenPlusWasOffered() throws ScramException {
        // Someone stripped -PLUS from the offer: the client saw only SCRAM-SHA-256 and says "y".
        ScramServer server = ScramServer.start("ana", Optional.of(ANA), MOCKS, Optional.of(PROXY_CERT));
        ScramClient client = ScramClient.start(new AuthenticationSASL(java.util.List.of("SCRAM-SHA-256")),
                "s3cret".toCharArray(), Optional.of(PROXY_CERT), ScramClient.ChannelBindingMode.PREFER);
        ScramServer.Outcome outcome = server.onInitialResponse(client.initialResponse());
        // 28000, as PostgreSQL answers it: the client is not authorised this way.
        assertThat(failure(outcome).sqlState()).isEqualTo(SqlState.INVALID_AUTHORIZATION_SPECIFICATION);
        assertThat(failure(outcome).message()).isEqualTo("SCRAM channel binding negotiation error");
    }

    @Test
    void flagYIsAcceptedWhenTheServerCannotBind() {
        ScramServer server = ScramServer.start("ana", Optional.of(ANA), MOCKS, Optional.empty());
        ScramServer.Outcome outcome = server.onInitialResponse(initial("SCRAM-SHA-256", "y,,n=,r=abc"));
        assertThat(outcome).isInstanceOf(ScramServer.Challenge.class);
    }

    @Test
    void wrongPasswordAndUnknownUserFailIdentically() throws ScramException {
        ScramServer wrong = ScramServer.start("ana", Optional.of(ANA), MOCKS, Optional.empty());
        ScramServer.Failure wrongFailure = failure(exchange(wrong, client(wrong, "guess", Optional.empty())));
        ScramServer unknown = ScramServer.start("bob", Optional.empty(), MOCKS, Optional.empty());
        ScramServer.Failure unknownFailure = failure(exchange(unknown, client(unknown, "guess", Optional.empty())));

        assertThat(wrongFailure.sqlState()).isEqualTo(SqlState.INVALID_PASSWORD);
        assertThat(wrongFailure.message()).isEqualTo("password authentication failed for user \"ana\"");
        assertThat(unknownFailure.sqlState()).isEqualTo(SqlState.INVALID_PASSWORD);
        assertThat(unknownFailure.message()).isEqualTo("password authentication failed for user \"bob\"");
        assertThat(wrongFailure.detail()).isEqualTo(unknownFailure.detail()).isEmpty();
        assertThat(unknownFailure.toErrorResponse().field(ErrorField.SEVERITY_NONLOCALIZED)).contains("FATAL");
    }

    @Test
    void unknownUserSeesAStableSaltAndTheUsualIterationCount() {
        String first = serverFirst(ScramServer.start("nobody", Optional.empty(), MOCKS, Optional.empty()));
        String second = serverFirst(ScramServer.start("nobody", Optional.empty(), MOCKS, Optional.empty()));
        String other = serverFirst(ScramServer.start("somebody", Optional.empty(), MOCKS, Optional.empty()));
        assertThat(salt(first)).isEqualTo(salt(second)).isNotEqualTo(salt(other));
        assertThat(Base64.getDecoder().decode(salt(first))).hasSize(16);
        assertThat(first).endsWith(",i=4096");
    }

    @Test
    void mockVerifiedExchangeFailsEvenWithTheMockKeys() {
        // A doomed exchange must fail even if a proof matched the mock verifier's keys.
        ScramServer server = ScramServer.start("ghost", Optional.empty(), MOCKS, Optional.empty(), () -> "srv");
        server.onInitialResponse(initial("SCRAM-SHA-256", "n,,n=,r=cli"));
        ScramVerifier mock = MOCKS.forUser("ghost");
        String serverFirst = "r=clisrv,s=" + Base64.getEncoder().encodeToString(mock.salt()) + ",i=4096";
        String withoutProof = "c=biws,r=clisrv";
        byte[] authMessage = ("n=,r=cli," + serverFirst + "," + withoutProof).getBytes(StandardCharsets.UTF_8);
        // Without the password the proof cannot be built; a random one exercises the same path.
        byte[] proof = ScramCrypto.xor(ScramCrypto.hmac(mock.storedKeyView(), authMessage), new byte[32]);
        ScramServer.Outcome outcome = server.onResponse(new SASLResponse(
                Bytes.utf8(withoutProof + ",p=" + Base64.getEncoder().encodeToString(proof))));
        assertThat(failure(outcome).sqlState()).isEqualTo(SqlState.INVALID_PASSWORD);
    }

    @Test
    void emptyInitialResponseGetsAnEmptyChallengeThenTheClientFirstMessage() throws ScramException {
        ScramServer server = ScramServer.start("ana", Optional.of(ANA), MOCKS, Optional.empty());
        ScramClient client = client(server, "s3cret", Optional.empty());
        SASLInitialResponse full = client.initialResponse();
        ScramServer.Outcome empty = server.onInitialResponse(new SASLInitialResponse(full.mechanism(), Optional.empty()));
        assertThat(((ScramServer.Challenge) empty).message().data().isEmpty()).isTrue();
        assertThat(server.stage()).isEqualTo(ScramServer.Stage.AWAITING_CLIENT_FIRST);
        ScramServer.Outcome first = server.onResponse(new SASLResponse(full.initialResponse().orElseThrow()));
        ScramServer.Outcome last = server.onResponse(client.onContinue(((ScramServer.Challenge) first).message()));
        assertThat(last).isInstanceOf(ScramServer.Success.class);
    }

    @Test
    void mechanismNotOfferedIsRefused() {
        ScramServer server = ScramServer.start("ana", Optional.of(ANA), MOCKS, Optional.empty());
        ScramServer.Outcome outcome = server.onInitialResponse(initial("SCRAM-SHA-256-PLUS", "p=tls-server-end-point,,n=,r=abc"));
        assertThat(failure(outcome).message()).isEqualTo("client selected an invalid SASL authentication mechanism");
    }

    @Test
    void stagesRefuseToRunOutOfOrder() throws ScramException {
        ScramServer server = ScramServer.start("ana", Optional.of(ANA), MOCKS, Optional.empty());
        assertThat(failure(server.onResponse(new SASLResponse(Bytes.utf8("c=biws,r=x,p=AAAA")))).sqlState())
                .isEqualTo(SqlState.PROTOCOL_VIOLATION);
        assertThat(server.stage()).isEqualTo(ScramServer.Stage.FAILED);
        // After a failure nothing proceeds, even a well-formed message.
        assertThat(server.onInitialResponse(initial("SCRAM-SHA-256", "n,,n=,r=abc"))).isInstanceOf(ScramServer.Failure.class);

        ScramServer done = ScramServer.start("ana", Optional.of(ANA), MOCKS, Optional.empty());
        exchange(done, client(done, "s3cret", Optional.empty()));
        assertThat(done.onResponse(new SASLResponse(Bytes.utf8("c=biws")))).isInstanceOf(ScramServer.Failure.class);
        assertThat(done.onInitialResponse(initial("SCRAM-SHA-256", "n,,n=,r=abc"))).isInstanceOf(ScramServer.Failure.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "", "n", "n,", "x,,n=,r=abc", "n,,", "n,,r=abc", "n,,n=,", "n,,n=,r=", "n,,n=,r=a b", "n,,n=a=zz,r=abc",
        "n,,n=,r=abc,", "n,,n=,r=abc,=x", "n,,n=,r=abc,1=x", "n,a=bob,n=,r=abc", "n,,m=ext,n=,r=abc",
        "p=tls-server-end-point,,n=,r=abc", "n,,n=,r=abc\u0000", "n,,n=\u00ff", "q,,n=,r=abc",
    })
    void malformedClientFirstMessagesFailCleanly(String message) {
        ScramServer server = ScramServer.start("ana", Optional.of(ANA), MOCKS, Optional.empty());
        ScramServer.Outcome outcome = server.onInitialResponse(initial("SCRAM-SHA-256", message));
        assertThat(outcome).isInstanceOf(ScramServer.Failure.class);
        assertThat(failure(outcome).sqlState()).isIn(SqlState.PROTOCOL_VIOLATION, SqlState.FEATURE_NOT_SUPPORTED);
        assertThat(server.stage()).isEqualTo(ScramServer.Stage.FAILED);
    }

    @Test
    void invalidUtf8FailsCleanly() {
        ScramServer server = ScramServer.start("ana", Optional.of(ANA), MOCKS, Optional.empty());
        ScramServer.Outcome outcome = server.onInitialResponse(SASLInitialResponse.of("SCRAM-SHA-256",
                Bytes.of((byte) 'n', (byte) ',', (byte) ',', (byte) 0xC3, (byte) 0x28)));
        assertThat(failure(outcome).detail()).contains("The client-first-message is not valid UTF-8.");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "", "c=biws", "c=biws,r=clisrv", "c=eSws,r=clisrv,p=%s", "c=biws,r=clisrX,p=%s", "c=biws,r=clisrv,p=short",
        "c=biws,r=clisrv,p=%s,x=1", "c=biws,r=clisrv,p=%s,", "c=***,r=clisrv,p=%s", "r=clisrv,c=biws,p=%s",
        "c=biws,r=clisrv,p=not*base64", "c=biws,r=clisrv,1=2,p=%s", "c=biws,r=clisrv,p=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "c=biw,r=clisrv,p=%s",
    })
    void malformedClientFinalMessagesFailCleanly(String template) {
        ScramServer server = ScramServer.start("ana", Optional.of(ANA), MOCKS, Optional.empty(), () -> "srv");
        assertThat(server.onInitialResponse(initial("SCRAM-SHA-256", "n,,n=,r=cli"))).isInstanceOf(ScramServer.Challenge.class);
        String proof = Base64.getEncoder().encodeToString(new byte[32]);
        ScramServer.Outcome outcome = server.onResponse(new SASLResponse(Bytes.utf8(template.replace("%s", proof))));
        assertThat(failure(outcome).sqlState()).isEqualTo(SqlState.PROTOCOL_VIOLATION);
        assertThat(server.stage()).isEqualTo(ScramServer.Stage.FAILED);
    }

    @Test
    void extensionsBeforeTheProofAreIgnoredAndCoveredByTheSignature() {
        ScramServer server = ScramServer.start("ana", Optional.of(ANA), MOCKS, Optional.empty(), () -> "srv");
        server.onInitialResponse(initial("SCRAM-SHA-256", "n,,n=,r=cli,x=ext"));
        // A wrong proof with an extension still reaches the proof check (28P01), not a parse error.
        String proof = Base64.getEncoder().encodeToString(new byte[32]);
        ScramServer.Outcome outcome = server.onResponse(new SASLResponse(Bytes.utf8("c=biws,r=clisrv,x=1,p=" + proof)));
        assertThat(failure(outcome).sqlState()).isEqualTo(SqlState.INVALID_PASSWORD);
    }

    @Test
    void plusWithoutBindingDataInTheMessageIsRefused() {
        ScramServer server = ScramServer.start("ana", Optional.of(ANA), MOCKS, Optional.of(PROXY_CERT));
        assertThat(failure(server.onInitialResponse(initial("SCRAM-SHA-256-PLUS", "n,,n=,r=abc"))).detail().orElseThrow())
                .contains("does not include channel binding data");
        ScramServer other = ScramServer.start("ana", Optional.of(ANA), MOCKS, Optional.of(PROXY_CERT));
        assertThat(failure(other.onInitialResponse(initial("SCRAM-SHA-256-PLUS", "p=tls-unique,,n=,r=abc"))).message())
                .isEqualTo("unsupported SCRAM channel-binding type");
    }

    private static SASLInitialResponse initial(String mechanism, String message) {
        return SASLInitialResponse.of(mechanism, Bytes.utf8(message));
    }

    private static ScramServer.Failure failure(ScramServer.Outcome outcome) {
        assertThat(outcome).isInstanceOf(ScramServer.Failure.class);
        return (ScramServer.Failure) outcome;
    }

    private static String serverFirst(ScramServer server) {
        return ((ScramServer.Challenge) server.onInitialResponse(initial("SCRAM-SHA-256", "n,,n=,r=abc")))
                .message().data().toUtf8String();
    }

    private static String salt(String serverFirst) {
        int start = serverFirst.indexOf(",s=") + 3;
        return serverFirst.substring(start, serverFirst.indexOf(',', start));
    }
}
