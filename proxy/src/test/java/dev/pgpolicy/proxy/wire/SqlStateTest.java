package dev.pgpolicy.proxy.wire;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SqlStateTest {

    @Test
    void everyCodeIsFiveCharactersOfDigitsOrUpperCaseLetters() {
        for (SqlState state : SqlState.values()) {
            assertThat(state.code()).as(state.name()).matches("[0-9A-Z]{5}");
        }
    }

    @Test
    void codesAreUnique() {
        Set<String> seen = new HashSet<>();
        for (SqlState state : SqlState.values()) {
            assertThat(seen.add(state.code())).as("duplicate code %s on %s", state.code(), state).isTrue();
        }
    }

    @Test
    void fromCodeFindsEveryConstantAndNothingElse() {
        for (SqlState state : SqlState.values()) {
            assertThat(SqlState.fromCode(state.code())).contains(state);
        }
        assertThat(SqlState.fromCode("22012")).isEmpty();
        assertThat(SqlState.fromCode("")).isEmpty();
    }

    @Test
    void codesMatchThePostgresqlErrorCodesAppendix() {
        assertThat(SqlState.PROTOCOL_VIOLATION.code()).isEqualTo("08P01");
        assertThat(SqlState.INSUFFICIENT_PRIVILEGE.code()).isEqualTo("42501");
        assertThat(SqlState.INVALID_PASSWORD.code()).isEqualTo("28P01");
        assertThat(SqlState.QUERY_CANCELED.code()).isEqualTo("57014");
        assertThat(SqlState.IDLE_SESSION_TIMEOUT.code()).isEqualTo("57P05");
        assertThat(SqlState.CANNOT_CONNECT_NOW.code()).isEqualTo("57P03");
        assertThat(SqlState.PROTOCOL_VIOLATION.sqlClass()).isEqualTo("08");
    }

    @Test
    void protocolExceptionDefaultsToProtocolViolationAndIsFoundThroughWrappers() {
        ProtocolException e = new ProtocolException("bad frame");
        assertThat(e.sqlState()).isEqualTo(SqlState.PROTOCOL_VIOLATION);
        RuntimeException wrapped = new RuntimeException(new IllegalStateException(e));
        assertThat(ProtocolException.find(wrapped)).containsSame(e);
        assertThat(ProtocolException.find(new RuntimeException("other"))).isEmpty();
    }
}
