package dev.pgpolicy.proxy.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class SqlTest {

    @Test
    void identifiersAreDoubleQuotedWithEmbeddedQuotesDoubled() {
        assertThat(Sql.identifier("app")).isEqualTo("\"app\"");
        assertThat(Sql.identifier("we\"ird; DROP")).isEqualTo("\"we\"\"ird; DROP\"");
    }

    @Test
    void literalsDoubleSingleQuotesAndLeaveBackslashesAlone() {
        assertThat(Sql.literal("it's")).isEqualTo("'it''s'");
        assertThat(Sql.literal("a\\'b")).isEqualTo("'a\\''b'");
    }

    @Test
    void nulAndEmptyIdentifiersAreRefused() {
        assertThatThrownBy(() -> Sql.literal("a\0b")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Sql.identifier("")).isInstanceOf(IllegalArgumentException.class);
    }
}
