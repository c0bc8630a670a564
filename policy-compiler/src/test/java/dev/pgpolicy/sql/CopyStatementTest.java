package dev.pgpolicy.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgpolicy.sql.CopyOptions.Format;
import dev.pgpolicy.sql.CopyStatement.Endpoint;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** COPY statements read as PostgreSQL reads them: target, direction and the data format of every spelling. */
class CopyStatementTest {

    private static CopyStatement one(String sql) throws CopyStatement.UnreadableException {
        List<CopyStatement> copies = CopyStatement.readAll(sql, true);
        assertThat(copies).as(sql).hasSize(1);
        return copies.get(0);
    }

    @Test
    void tableFormWithDefaultsIsTextWithTabAndBackslashN() throws Exception {
        CopyStatement copy = one("COPY payments.Customers TO STDOUT");
        assertThat(copy.table()).contains(new ObjectName("payments", "customers"));
        assertThat(copy.columns()).isEmpty();
        assertThat(copy.query()).isEmpty();
        assertThat(copy.toClient()).isTrue();
        assertThat(copy.options()).isEqualTo(CopyOptions.defaults(Format.TEXT));
        assertThat(copy.options().delimiter()).isEqualTo("\t");
        assertThat(copy.options().nullString()).isEqualTo("\\N");
    }

    @Test
    void columnListsAreFoldedAndQuotedNamesKept() throws Exception {
        CopyStatement copy = one("copy customers (id, \"E Mail\", Card_Number) to stdout");
        assertThat(copy.table()).contains(ObjectName.unqualified("customers"));
        assertThat(copy.columns()).containsExactly("id", "E Mail", "card_number");
    }

    @Test
    void queryFormKeepsTheQueryTextAsWritten() throws Exception {
        CopyStatement copy = one("COPY (SELECT c.email, o.amount FROM payments.customers c JOIN payments.orders o"
                + " ON o.customer_id = c.id WHERE c.name <> ')') TO STDOUT WITH (FORMAT csv, HEADER)");
        assertThat(copy.table()).isEmpty();
        assertThat(copy.query()).contains("SELECT c.email, o.amount FROM payments.customers c JOIN payments.orders o"
                + " ON o.customer_id = c.id WHERE c.name <> ')'");
        assertThat(copy.options().format()).isEqualTo(Format.CSV);
        assertThat(copy.options().header()).isTrue();
        assertThat(copy.options().delimiter()).isEqualTo(",");
        assertThat(copy.options().nullString()).isEmpty();
        assertThat(copy.options().quote()).isEqualTo("\"");
        assertThat(copy.options().escape()).isEqualTo("\"");
    }

    @Test
    void genericOptionsSetEveryFormatDetail() throws Exception {
        CopyOptions options = one("COPY t TO STDOUT (FORMAT 'csv', DELIMITER ';', NULL 'NIL', QUOTE '''',"
                + " ESCAPE E'\\\\', HEADER false, FORCE_QUOTE (a, \"B\"), ENCODING 'LATIN1', FREEZE)").options();
        assertThat(options).isEqualTo(new CopyOptions(Format.CSV, ";", "NIL", "'", "\\", false, Optional.of("LATIN1"),
                List.of("a", "B")));
        assertThat(one("COPY t TO STDOUT (FORMAT csv, QUOTE '|')").options().escape())
                .as("the escape defaults to the quote").isEqualTo("|");
        assertThat(one("COPY t TO STDOUT (FORMAT csv, FORCE_QUOTE *)").options().forceQuote()).containsExactly("*");
        assertThat(one("COPY t TO STDOUT (FORMAT text, HEADER on, DELIMITER E'\\t')").options().header()).isTrue();
    }

    @Test
    void olderSpellingsMeanTheSame() throws Exception {
        assertThat(one("COPY t TO STDOUT CSV HEADER").options())
                .isEqualTo(new CopyOptions(Format.CSV, ",", "", "\"", "\"", true, Optional.empty(), List.of()));
        assertThat(one("COPY t TO STDOUT WITH DELIMITER AS '|' NULL AS '' CSV QUOTE AS '''' FORCE QUOTE a, b").options())
                .isEqualTo(new CopyOptions(Format.CSV, "|", "", "'", "'", false, Optional.empty(), List.of("a", "b")));
        assertThat(one("COPY t TO STDOUT USING DELIMITERS ','").options().delimiter()).isEqualTo(",");
        assertThat(one("COPY BINARY t TO STDOUT").options().format()).isEqualTo(Format.BINARY);
        assertThat(one("COPY t TO STDOUT WITH BINARY").options().format()).isEqualTo(Format.BINARY);
        assertThat(one("COPY t TO STDOUT (FORMAT binary)").options().format()).isEqualTo(Format.BINARY);
    }

    @Test
    void endpointsAndDirectionsAreTold() throws Exception {
        assertThat(one("COPY t FROM STDIN (FORMAT csv) WHERE a > 1").from()).isTrue();
        assertThat(one("COPY t TO '/tmp/x'").endpoint()).isEqualTo(Endpoint.FILE);
        assertThat(one("COPY t TO '/tmp/x'").toClient()).isFalse();
        assertThat(one("COPY t TO PROGRAM 'cat'").endpoint()).isEqualTo(Endpoint.PROGRAM);
        assertThat(one("COPY t FROM STDIN").toClient()).isFalse();
    }

    @Test
    void onlyCopyStatementsOfAMessageAreReadInOrder() throws Exception {
        List<CopyStatement> copies = CopyStatement.readAll(
                "SELECT 1; COPY a TO STDOUT; SET x = 1; COPY (SELECT 2) TO STDOUT CSV", true);
        assertThat(copies).extracting(c -> c.table().map(ObjectName::toString).orElse(c.query().orElse("")))
                .containsExactly("a", "SELECT 2");
        assertThat(copies.get(1).options().format()).isEqualTo(Format.CSV);
    }

    @Test
    void escapeStringsFollowStandardConformingStrings() throws Exception {
        assertThat(CopyStatement.readAll("COPY t TO STDOUT (DELIMITER '\\t')", false).get(0).options().delimiter())
                .isEqualTo("\t");
        assertThatThrownBy(() -> CopyStatement.readAll("COPY t TO STDOUT (DELIMITER '\\t')", true))
                .isInstanceOf(CopyStatement.UnreadableException.class).hasMessageContaining("single one-byte");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "COPY t TO STDOUT (FORMAT xml)",
            "COPY t TO STDOUT (FORMAT 'CSV')",
            "COPY t TO STDOUT (DELIMITER ';;')",
            "COPY t TO STDOUT (DELIMITER ',', DELIMITER ';')",
            "COPY t TO STDOUT (COLOUR 'blue')",
            "COPY t TO STDOUT (QUOTE '''')",
            "COPY t TO STDOUT (FORMAT csv, DELIMITER '\"')",
            "COPY t TO STDOUT (NULL E'\\n')",
            "COPY t TO STDOUT (DELIMITER 'a')",
            "COPY t TO STDOUT (HEADER maybe)",
            "COPY t TO STDOUT (FORMAT csv",
            "COPY t TO STDOUT WITH CSV SOMETHING",
            "COPY (SELECT 1 TO STDOUT",
            "COPY (SELECT 1) FROM STDIN",
            "COPY t STDOUT",
            "COPY t TO STDOUT WHERE a = 1",
            "COPY t TO STDOUT (DELIMITER 'é')",
            "COPY t TO STDOUT; COPY u TO STDOUT (FORMAT wrong)"})
    void anythingNotReadWithCertaintyIsUnreadable(String sql) {
        assertThatThrownBy(() -> CopyStatement.readAll(sql, true)).as(sql)
                .isInstanceOf(CopyStatement.UnreadableException.class);
    }

    @Test
    void unreadableStatementsSayWhy() {
        assertThatThrownBy(() -> CopyStatement.readAll("COPY t TO STDOUT (COLOUR 'blue')", true))
                .hasMessage("COPY option \"colour\" not recognized");
        assertThatThrownBy(() -> CopyStatement.readAll("COPY t TO STDOUT WITH CSV SOMETHING", true))
                .hasMessage("expected a COPY option at \"SOMETHING\"");
    }
}
