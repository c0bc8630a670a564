package dev.pgpolicy.proxy.enforce;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpolicy.proxy.wire.Bind;
import dev.pgpolicy.proxy.wire.Bytes;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** How a record reads a CommandComplete tag and writes Bind parameters. */
class StatementAuditTest {

    @Test
    void rowsComeFromTheTagsThatCountThem() {
        assertThat(StatementAudit.rows("SELECT 3")).isEqualTo(3L);
        assertThat(StatementAudit.rows("INSERT 0 12")).isEqualTo(12L);
        assertThat(StatementAudit.rows("UPDATE 0")).isZero();
        assertThat(StatementAudit.rows("COPY 5")).isEqualTo(5L);
        assertThat(StatementAudit.rows("FETCH 2")).isEqualTo(2L);
        assertThat(StatementAudit.rows("CREATE TABLE")).isNull();
        assertThat(StatementAudit.rows("BEGIN")).isNull();
        assertThat(StatementAudit.rows("")).isNull();
        assertThat(StatementAudit.rows("SELECT 99999999999999999999")).as("beyond a long").isNull();
    }

    @Test
    void parametersAreTextBinaryAsHexAndNullAsNull() {
        Bind bind = new Bind("", "s1", List.of(0, 1, 0),
                List.of(Optional.of(Bytes.utf8("it's ünïcode")), Optional.of(Bytes.of((byte) 0, (byte) 0xff, (byte) 7)),
                        Optional.empty()),
                List.of());
        assertThat(StatementAudit.parameters(bind)).isEqualTo(Arrays.asList("it's ünïcode", "\\x00ff07", null));
        Bind allBinary = new Bind("", "s1", List.of(1), List.of(Optional.of(Bytes.EMPTY)), List.of());
        assertThat(StatementAudit.parameters(allBinary)).containsExactly("\\x");
    }
}
