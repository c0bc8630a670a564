package dev.pgpolicy.proxy.scram;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class SaslPrepTest {

    /** RFC 4013 section 3, the examples table. */
    @Test
    void rfc4013Examples() {
        assertThat(SaslPrep.prepare("I\u00ADX").prepared()).contains("IX");       // SOFT HYPHEN mapped to nothing
        assertThat(SaslPrep.prepare("user").prepared()).contains("user");        // no transformation
        assertThat(SaslPrep.prepare("USER").prepared()).contains("USER");        // case preserved
        assertThat(SaslPrep.prepare("\u00AA").prepared()).contains("a");         // output is NFKC
        assertThat(SaslPrep.prepare("\u2168").prepared()).contains("IX");        // output is NFKC
        assertThat(SaslPrep.prepare("\u0007").rejection()).contains(SaslPrep.Rejection.PROHIBITED_CHARACTER);
        assertThat(SaslPrep.prepare("\u0627\u0031").rejection()).contains(SaslPrep.Rejection.BIDI_VIOLATION);
    }

    @Test
    void nonAsciiSpaceBecomesSpaceAndEmptyIsRejected() {
        // NO-BREAK SPACE is both mapped (C.1.2 -> SPACE) and, after mapping, harmless.
        assertThat(SaslPrep.prepare("a\u00A0b").prepared()).contains("a b");
        assertThat(SaslPrep.prepare("\u00AD\u200D").rejection()).contains(SaslPrep.Rejection.EMPTY);
        // U+200B is in both C.1.2 and B.1; as in PostgreSQL, the space mapping wins.
        assertThat(SaslPrep.prepare("\u200B").prepared()).contains(" ");
        assertThat(SaslPrep.prepare("").rejection()).contains(SaslPrep.Rejection.EMPTY);
    }

    @Test
    void rightToLeftStringsMustBeWhollyRightToLeft() {
        assertThat(SaslPrep.prepare("\u0627\u0628").prepared()).contains("\u0627\u0628");
        assertThat(SaslPrep.prepare("\u0627a\u0628").rejection()).contains(SaslPrep.Rejection.BIDI_VIOLATION);
        assertThat(SaslPrep.prepare("\u05D0\u05D1\u0031\u05D2").prepared()).isPresent();
    }

    @Test
    void unassignedInUnicode32AndPrivateUseAreRejected() {
        // U+0221 was unassigned in Unicode 3.2 (table A.1); U+E000 is private use (C.3).
        assertThat(SaslPrep.prepare("x\u0221").rejection()).contains(SaslPrep.Rejection.UNASSIGNED_CODE_POINT);
        assertThat(SaslPrep.prepare("x\uE000").rejection()).contains(SaslPrep.Rejection.PROHIBITED_CHARACTER);
        // A supplementary character assigned after 3.2 (U+1F600) is unassigned for stringprep.
        assertThat(SaslPrep.prepare("\uD83D\uDE00").rejection()).contains(SaslPrep.Rejection.UNASSIGNED_CODE_POINT);
    }

    @Test
    void passwordBytesFallBackToRawUtf8AsPostgresDoes() {
        // ASCII passes unchanged, even a control character SASLprep would prohibit.
        assertThat(SaslPrep.passwordBytes("a\u0007b".toCharArray())).isEqualTo("a\u0007b".getBytes(StandardCharsets.UTF_8));
        // Prepared: the ROMAN NUMERAL NINE becomes "IX".
        assertThat(SaslPrep.passwordBytes("\u2168".toCharArray())).isEqualTo("IX".getBytes(StandardCharsets.UTF_8));
        // Rejected: the raw UTF-8 is used.
        assertThat(SaslPrep.passwordBytes("\u0627a".toCharArray())).isEqualTo("\u0627a".getBytes(StandardCharsets.UTF_8));
        assertThat(SaslPrep.passwordBytes("\uD83D\uDE00\u2168".toCharArray()))
                .isEqualTo("\uD83D\uDE00\u2168".getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void unpairedSurrogateIsNotAPassword() {
        assertThat(SaslPrep.prepare("a\uD800b").rejection()).isEqualTo(Optional.of(SaslPrep.Rejection.INVALID_UNICODE));
        assertThatThrownBy(() -> SaslPrep.passwordBytes("a\uD800b".toCharArray()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageNotContaining("a\uD800b");
    }

    @Test
    void resultNeverShowsThePreparedString() {
        assertThat(SaslPrep.prepare("s3cr\u00E9t").toString()).doesNotContain("s3cr");
    }
}
