package dev.pgpolicy.proxy.wire;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ErrorResponseTest {

    @Test
    void factoryFillsSeverityTwiceCodeMessageAndDetail() {
        ErrorResponse error = ErrorResponse.of("ERROR", SqlState.INSUFFICIENT_PRIVILEGE,
                "permission denied for table accounts", "rule r1");
        assertThat(error.fields()).containsExactly(
                org.assertj.core.api.Assertions.entry('S', "ERROR"),
                org.assertj.core.api.Assertions.entry('V', "ERROR"),
                org.assertj.core.api.Assertions.entry('C', "42501"),
                org.assertj.core.api.Assertions.entry('M', "permission denied for table accounts"),
                org.assertj.core.api.Assertions.entry('D', "rule r1"));
        assertThat(error.severity()).isEqualTo("ERROR");
        assertThat(error.code()).isEqualTo("42501");
        assertThat(error.sqlState()).contains(SqlState.INSUFFICIENT_PRIVILEGE);
        assertThat(error.message()).isEqualTo("permission denied for table accounts");
        assertThat(error.detail()).contains("rule r1");
        assertThat(error.hint()).isEmpty();
        assertThat(error.isFatal()).isFalse();
    }

    @Test
    void withoutDetailThereIsNoDField() {
        ErrorResponse error = ErrorResponse.fatal(SqlState.PROTOCOL_VIOLATION, "invalid frontend message type");
        assertThat(error.fields()).doesNotContainKey('D');
        assertThat(error.detail()).isEmpty();
        assertThat(error.isFatal()).isTrue();
    }

    @Test
    void withFieldAddsAtTheEndOrReplacesInPlace() {
        ErrorResponse error = ErrorResponse.error(SqlState.INSUFFICIENT_PRIVILEGE, "denied")
                .withField(ErrorField.HINT, "correlation id 42")
                .withField('M', "denied by rule r1");
        assertThat(error.fields().keySet()).containsExactly('S', 'V', 'C', 'M', 'H');
        assertThat(error.message()).isEqualTo("denied by rule r1");
        assertThat(error.hint()).contains("correlation id 42");
    }

    @Test
    void fieldsCannotBeModified() {
        ErrorResponse error = ErrorResponse.error(SqlState.INTERNAL_ERROR, "x");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> error.fields().put('D', "y"))
                .isInstanceOf(UnsupportedOperationException.class);
    }
}
