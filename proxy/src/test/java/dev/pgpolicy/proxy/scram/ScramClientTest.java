package dev.pgpolicy.proxy.scram;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgpolicy.proxy.wire.AuthenticationSASL;
import dev.pgpolicy.proxy.wire.AuthenticationSASLContinue;
import dev.pgpolicy.proxy.wire.AuthenticationSASLFinal;
import dev.pgpolicy.proxy.wire.Bytes;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ScramClientTest {
    private static final AuthenticationSASL PLAIN = new AuthenticationSASL(List.of("SCRAM-SHA-256"));
    private static final AuthenticationSASL BOTH = new AuthenticationSASL(List.of("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"));
    private static final ChannelBinding CERT = ChannelBinding.of(new byte[] {1, 2, 3});

    private static ScramClient start(AuthenticationSASL offer, Optional<ChannelBinding> binding,
                                     ScramClient.ChannelBindingMode mode) throws ScramException {
        return ScramClient.start(offer, "pencil".toCharArray(), binding, mode, "", () -> "cli");
    }

    private static String firstMessage(ScramClient client) {
        return client.initialResponse().initialResponse().orElseThrow().toUtf8String();
    }

    @Test
    void flagsFollowLibpq() throws ScramException {
        ScramClient bound = start(BOTH, Optional.of(CERT), ScramClient.ChannelBindingMode.PREFER);
        assertThat(bound.mechanism()).isEqualTo("SCRAM-SHA-256-PLUS");
        assertThat(firstMessage(bound)).isEqualTo("p=tls-server-end-point,,n=,r=cli");

        ScramClient downgraded = start(PLAIN, Optional.of(CERT), ScramClient.ChannelBindingMode.PREFER);
        assertThat(downgraded.mechanism()).isEqualTo("SCRAM-SHA-256");
        assertThat(firstMessage(downgraded)).isEqualTo("y,,n=,r=cli");

        assertThat(firstMessage(start(BOTH, Optional.empty(), ScramClient.ChannelBindingMode.PREFER))).isEqualTo("n,,n=,r=cli");
        assertThat(firstMessage(start(BOTH, Optional.of(CERT), ScramClient.ChannelBindingMode.DISABLE))).isEqualTo("n,,n=,r=cli");
    }

    @Test
    void requireRefusesWhatCannotBind() {
        assertThatThrownBy(() -> start(PLAIN, Optional.of(CERT), ScramClient.ChannelBindingMode.REQUIRE))
                .isInstanceOf(ScramException.class).hasMessageContaining("did not offer SCRAM-SHA-256-PLUS");
        assertThatThrownBy(() -> start(BOTH, Optional.empty(), ScramClient.ChannelBindingMode.REQUIRE))
                .isInstanceOf(ScramException.class).hasMessageContaining("no TLS certificate");
        assertThatThrownBy(() -> start(new AuthenticationSASL(List.of("SCRAM-SHA-256-PLUS")), Optional.empty(),
                ScramClient.ChannelBindingMode.PREFER)).isInstanceOf(ScramException.class);
    }

    @Test
    void serverSignatureThatDoesNotVerifyIsAnImpostor() throws ScramException {
        ScramClient client = start(PLAIN, Optional.empty(), ScramClient.ChannelBindingMode.PREFER);
        client.initialResponse();
        client.onContinue(new AuthenticationSASLContinue(Bytes.utf8("r=clisrv,s=c2FsdA==,i=4096")));
        String forged = "v=" + java.util.Base64.getEncoder().encodeToString(new byte[32]);
        assertThatThrownBy(() -> client.onFinal(new AuthenticationSASLFinal(Bytes.utf8(forged))))
                .isInstanceOf(ScramException.class).hasMessageContaining("man in the middle");
        assertThat(client.succeeded()).isFalse();
        assertThat(client.stage()).isEqualTo(ScramClient.Stage.FAILED);
    }

    @Test
    void serverErrorIsReported() throws ScramException {
        ScramClient client = start(PLAIN, Optional.empty(), ScramClient.ChannelBindingMode.PREFER);
        client.initialResponse();
        client.onContinue(new AuthenticationSASLContinue(Bytes.utf8("r=clisrv,s=c2FsdA==,i=4096")));
        assertThatThrownBy(() -> client.onFinal(new AuthenticationSASLFinal(Bytes.utf8("e=invalid-proof"))))
                .hasMessageContaining("invalid-proof");
        assertThat(client.succeeded()).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "", "r=cli,s=c2FsdA==,i=4096", "r=other,s=c2FsdA==,i=4096", "r=clisrv,s=,i=4096", "r=clisrv,s=***,i=4096",
        "r=clisrv,s=c2FsdA==,i=0", "r=clisrv,s=c2FsdA==,i=2147483647", "r=clisrv,s=c2FsdA==,i=x",
        "r=clisrv,s=c2FsdA==", "m=x,r=clisrv,s=c2FsdA==,i=4096", "s=c2FsdA==,r=clisrv,i=4096", "r=clisrv,s=c2FsdA==,i=4096,",
    })
    void malformedServerFirstMessagesFail(String message) throws ScramException {
        ScramClient client = start(PLAIN, Optional.empty(), ScramClient.ChannelBindingMode.PREFER);
        client.initialResponse();
        assertThatThrownBy(() -> client.onContinue(new AuthenticationSASLContinue(Bytes.utf8(message))))
                .isInstanceOf(ScramException.class);
        assertThat(client.stage()).isEqualTo(ScramClient.Stage.FAILED);
    }

    @Test
    void stagesRefuseToRunOutOfOrder() throws ScramException {
        ScramClient client = start(PLAIN, Optional.empty(), ScramClient.ChannelBindingMode.PREFER);
        assertThatThrownBy(() -> client.onFinal(new AuthenticationSASLFinal(Bytes.utf8("v=AAAA"))))
                .isInstanceOf(IllegalStateException.class);
        assertThat(client.succeeded()).isFalse();
        assertThatThrownBy(client::initialResponse).isInstanceOf(IllegalStateException.class);
    }
}
