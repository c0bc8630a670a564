package dev.pgpolicy.proxy.scram;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.SecureRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ScramVerifierTest {
    private static final String VALID =
            "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=";

    @Test
    void parsesAndReencodesExactly() throws Exception {
        ScramVerifier verifier = ScramVerifier.parse(VALID);
        assertThat(verifier.iterations()).isEqualTo(4096);
        assertThat(verifier.encode()).isEqualTo(VALID);
        assertThat(verifier.toString()).doesNotContain("WG5d8").doesNotContain("wfPLw");
    }

    @Test
    void generatedVerifiersHaveA16ByteSaltAndMatchOnlyTheirPassword() throws Exception {
        ScramVerifier verifier = ScramVerifier.generate("correct horse".toCharArray(), 4096, new SecureRandom());
        assertThat(verifier.salt()).hasSize(16);
        ScramVerifier reparsed = ScramVerifier.parse(verifier.encode());
        assertThat(reparsed.matches("correct horse".toCharArray())).isTrue();
        assertThat(reparsed.matches("correct horsE".toCharArray())).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "pencil",
        "md5a3556571e93b0d20722ba62be61e8c2d",
        "SCRAM-SHA-256$junk",
        "SCRAM-SHA-256$4096:c2FsdA==",
        "SCRAM-SHA-256$x:c2FsdA==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
        "SCRAM-SHA-256$0:c2FsdA==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
        "SCRAM-SHA-256$99999999999:c2FsdA==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
        "SCRAM-SHA-256$4096:$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
        "SCRAM-SHA-256$4096:c2FsdA==$c2hvcnQ=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
        "SCRAM-SHA-256$4096:c2FsdA==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:not*base64",
        "SCRAM-SHA-256$4096:c2FsdA==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPL:extra",
        "SCRAM-SHA-256$4096:c2FsdA==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=$x",
    })
    void rejectsAnythingElseWithoutEchoingIt(String text) {
        assertThatThrownBy(() -> ScramVerifier.parse(text))
                .isInstanceOf(ScramVerifier.FormatException.class)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain(text));
    }

    @Test
    void plaintextIsCalledOut() {
        assertThatThrownBy(() -> ScramVerifier.parse("hunter2"))
                .hasMessageContaining("never a plaintext password");
        assertThatThrownBy(() -> ScramVerifier.parse("md5a3556571e93b0d20722ba62be61e8c2d"))
                .hasMessageContaining("md5");
    }
}
