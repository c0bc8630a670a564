package dev.pgpolicy.proxy.scram;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpolicy.proxy.wire.AuthenticationSASL;
import dev.pgpolicy.proxy.wire.AuthenticationSASLContinue;
import dev.pgpolicy.proxy.wire.AuthenticationSASLFinal;
import dev.pgpolicy.proxy.wire.Bytes;
import dev.pgpolicy.proxy.wire.SASLInitialResponse;
import dev.pgpolicy.proxy.wire.SASLResponse;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The SCRAM-SHA-256 example of RFC 7677 section 3, message for message, on both sides. */
class Rfc7677VectorTest {
    static final String CLIENT_NONCE = "rOprNGfwEbeRWgbNEkqO";
    static final String SERVER_NONCE = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    static final byte[] SALT = Base64.getDecoder().decode("W22ZaJ0SNY7soEsUEjb6gQ==");
    static final String CLIENT_FIRST = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
    static final String SERVER_FIRST =
            "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    static final String CLIENT_FINAL = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
            + "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    static final String SERVER_FINAL = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

    @Test
    void serverSideProducesTheRfcMessages() {
        ScramVerifier verifier = ScramVerifier.derive("pencil".toCharArray(), SALT, 4096);
        ScramServer server = ScramServer.start("user", Optional.of(verifier), MockVerifiers.random(4096),
                Optional.empty(), () -> SERVER_NONCE);

        ScramServer.Outcome first = server.onInitialResponse(
                SASLInitialResponse.of("SCRAM-SHA-256", Bytes.utf8(CLIENT_FIRST)));
        assertThat(first).isInstanceOf(ScramServer.Challenge.class);
        assertThat(((ScramServer.Challenge) first).message().data().toUtf8String()).isEqualTo(SERVER_FIRST);

        ScramServer.Outcome last = server.onResponse(new SASLResponse(Bytes.utf8(CLIENT_FINAL)));
        assertThat(last).isInstanceOf(ScramServer.Success.class);
        assertThat(((ScramServer.Success) last).message().data().toUtf8String()).isEqualTo(SERVER_FINAL);
        assertThat(server.stage()).isEqualTo(ScramServer.Stage.SUCCEEDED);
        assertThat(server.channelBound()).isFalse();
    }

    @Test
    void clientSideProducesTheRfcMessages() throws ScramException {
        ScramClient client = ScramClient.start(new AuthenticationSASL(List.of("SCRAM-SHA-256")),
                "pencil".toCharArray(), Optional.empty(), ScramClient.ChannelBindingMode.PREFER, "user",
                () -> CLIENT_NONCE);

        SASLInitialResponse initial = client.initialResponse();
        assertThat(initial.mechanism()).isEqualTo("SCRAM-SHA-256");
        assertThat(initial.initialResponse().orElseThrow().toUtf8String()).isEqualTo(CLIENT_FIRST);

        SASLResponse fin = client.onContinue(new AuthenticationSASLContinue(Bytes.utf8(SERVER_FIRST)));
        assertThat(fin.data().toUtf8String()).isEqualTo(CLIENT_FINAL);

        client.onFinal(new AuthenticationSASLFinal(Bytes.utf8(SERVER_FINAL)));
        assertThat(client.succeeded()).isTrue();
    }

    @Test
    void verifierOfTheRfcPasswordRoundTripsThroughItsTextForm() throws Exception {
        ScramVerifier verifier = ScramVerifier.derive("pencil".toCharArray(), SALT, 4096);
        String text = verifier.encode();
        assertThat(text).startsWith("SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$");
        assertThat(ScramVerifier.parse(text)).isEqualTo(verifier);
        assertThat(verifier.matches("pencil".toCharArray())).isTrue();
        assertThat(verifier.matches("pencil ".toCharArray())).isFalse();
        assertThat(verifier.toString()).doesNotContain(text.substring(text.indexOf('$', 14) + 1));
    }
}
