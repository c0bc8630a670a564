package dev.pgpolicy.proxy.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class CsvTest {

    @Test
    void unquotedEmptyIsNullAndQuotedEmptyIsEmptyString() {
        assertThat(Csv.parse("1,,\"\"\n")).containsExactly(Arrays.asList("1", null, ""));
    }

    @Test
    void quotedFieldsKeepSeparatorsQuotesAndNewlines() {
        List<List<String>> rows = Csv.parse("\"a,b\",\"say \"\"hi\"\"\",\"line1\nline2\"\r\nx,y,z\n");
        assertThat(rows).containsExactly(List.of("a,b", "say \"hi\"", "line1\nline2"), List.of("x", "y", "z"));
    }

    @Test
    void noOutputIsNoRowsAndAMissingFinalNewlineStillEndsTheRow() {
        assertThat(Csv.parse("")).isEmpty();
        assertThat(Csv.parse("a,b")).containsExactly(List.of("a", "b"));
    }

    @Test
    void singleNullColumnRowsAreKept() {
        assertThat(Csv.parse("\n\n")).containsExactly(Arrays.asList((String) null), Arrays.asList((String) null));
    }

    @Test
    void unterminatedQuoteIsRejected() {
        assertThatThrownBy(() -> Csv.parse("\"open")).isInstanceOf(IllegalArgumentException.class);
    }
}
