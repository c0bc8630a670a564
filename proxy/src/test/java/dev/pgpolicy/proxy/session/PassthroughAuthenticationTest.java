package dev.pgpolicy.proxy.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgpolicy.proxy.session.PassthroughAuthentication.Stage;
import dev.pgpolicy.proxy.wire.AuthenticationGSS;
import dev.pgpolicy.proxy.wire.AuthenticationMD5Password;
import dev.pgpolicy.proxy.wire.AuthenticationOk;
import dev.pgpolicy.proxy.wire.AuthenticationSASL;
import dev.pgpolicy.proxy.wire.AuthenticationSASLContinue;
import dev.pgpolicy.proxy.wire.AuthenticationSASLFinal;
import dev.pgpolicy.proxy.wire.Bytes;
import dev.pgpolicy.proxy.wire.FrontendMessage;
import dev.pgpolicy.proxy.wire.PasswordMessage;
import dev.pgpolicy.proxy.wire.ProtocolException;
import dev.pgpolicy.proxy.wire.RawFrame;
import dev.pgpolicy.proxy.wire.SASLInitialResponse;
import dev.pgpolicy.proxy.wire.SASLResponse;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.util.List;
import org.junit.jupiter.api.Test;

class PassthroughAuthenticationTest {

    private final PassthroughAuthentication auth = new PassthroughAuthentication();

    private void client(FrontendMessage message) {
        RawFrame frame = RawFrame.of(message, UnpooledByteBufAllocator.DEFAULT);
        try {
            auth.onClient(frame);
        } finally {
            frame.release();
        }
    }

    @Test
    void scramExchangeInOrderWithoutChannelBinding() {
        var offer = auth.onServer(new AuthenticationSASL(List.of("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256")));
        assertThat(offer).contains(new AuthenticationSASL(List.of("SCRAM-SHA-256")));
        client(SASLInitialResponse.of("SCRAM-SHA-256", Bytes.utf8("n,,n=,r=abc")));
        assertThat(auth.onServer(new AuthenticationSASLContinue(Bytes.utf8("r=abcdef,s=c2FsdA==,i=4096")))).isEmpty();
        client(new SASLResponse(Bytes.utf8("c=biws,r=abcdef,p=cHJvb2Y=")));
        assertThat(auth.onServer(new AuthenticationSASLFinal(Bytes.utf8("v=c2ln")))).isEmpty();
        assertThat(auth.methodOrNull()).isNull();
        auth.onServer(AuthenticationOk.INSTANCE);
        assertThat(auth.stage()).isEqualTo(Stage.DONE);
        assertThat(auth.methodOrNull()).isEqualTo("scram-sha-256");
    }

    @Test
    void clientCannotPickTheRemovedPlusMechanism() {
        auth.onServer(new AuthenticationSASL(List.of("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256")));
        assertThatThrownBy(() -> client(SASLInitialResponse.of("SCRAM-SHA-256-PLUS", Bytes.utf8("p=tls-server-end-point,,n=,r=x"))))
                .isInstanceOf(ProtocolException.class).hasMessageContaining("invalid SASL authentication mechanism");
    }

    @Test
    void serverMayNotSkipTheSaslFinalMessage() {
        auth.onServer(new AuthenticationSASL(List.of("SCRAM-SHA-256")));
        client(SASLInitialResponse.of("SCRAM-SHA-256", Bytes.utf8("n,,n=,r=abc")));
        assertThatThrownBy(() -> auth.onServer(AuthenticationOk.INSTANCE)).isInstanceOf(ProtocolException.class)
                .hasMessageContaining("in the middle of the SASL exchange");
    }

    @Test
    void serverMayNotAskAgainBeforeTheClientAnswered() {
        auth.onServer(new AuthenticationMD5Password(Bytes.of((byte) 1, (byte) 2, (byte) 3, (byte) 4)));
        assertThatThrownBy(() -> auth.onServer(AuthenticationOk.INSTANCE)).isInstanceOf(ProtocolException.class)
                .hasMessageContaining("before the client answered");
    }

    @Test
    void md5PasswordThenOk() {
        auth.onServer(new AuthenticationMD5Password(Bytes.of((byte) 1, (byte) 2, (byte) 3, (byte) 4)));
        client(PasswordMessage.of("md5" + "0".repeat(32)));
        auth.onServer(AuthenticationOk.INSTANCE);
        assertThat(auth.methodOrNull()).isEqualTo("md5");
    }

    @Test
    void clientAnswerNobodyAskedForIsAViolation() {
        assertThatThrownBy(() -> client(PasswordMessage.of("secret"))).isInstanceOf(ProtocolException.class)
                .hasMessageContaining("the server asked for none");
        auth.onServer(new AuthenticationSASL(List.of("SCRAM-SHA-256")));
        // A SASLResponse where the SASLInitialResponse belongs is malformed as one.
        assertThatThrownBy(() -> client(new SASLResponse(Bytes.utf8("c=biws")))).isInstanceOf(ProtocolException.class);
    }

    @Test
    void unsupportedMethodsAndTrust() {
        assertThatThrownBy(() -> new PassthroughAuthentication().onServer(AuthenticationGSS.INSTANCE))
                .isInstanceOf(SessionException.class).hasMessageContaining("cannot relay (code 7)");
        assertThatThrownBy(() -> new PassthroughAuthentication().onServer(new AuthenticationSASL(List.of("SCRAM-SHA-256-PLUS"))))
                .isInstanceOf(SessionException.class).hasMessageContaining("no SASL mechanism pgpolicy can relay");
        PassthroughAuthentication trust = new PassthroughAuthentication();
        trust.onServer(AuthenticationOk.INSTANCE);
        assertThat(trust.methodOrNull()).isEqualTo("trust");
        assertThatThrownBy(() -> trust.onServer(AuthenticationOk.INSTANCE)).hasMessageContaining("after AuthenticationOk");
    }
}
