package dev.pgpolicy.proxy.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ResourcesTest {

    @Test
    void everyResourceIsClosedInOrderAndTheFirstFailureIsThrownWithTheLaterOnesSuppressed() {
        List<String> closed = new ArrayList<>();
        AutoCloseable proxy = () -> {
            closed.add("proxy");
            throw new IllegalStateException("proxy would not stop");
        };
        AutoCloseable catalog = () -> {
            closed.add("catalog");
            throw new IOException("catalog connection reset");
        };
        AutoCloseable server = () -> closed.add("server");

        assertThatThrownBy(() -> Resources.closeAll(proxy, null, catalog, server))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("proxy would not stop")
                .satisfies(failure -> assertThat(failure.getSuppressed()).singleElement()
                        .satisfies(suppressed -> assertThat(suppressed).hasMessage("catalog connection reset")));
        assertThat(closed).containsExactly("proxy", "catalog", "server");
    }

    @Test
    void aCheckedFailureAloneIsWrapped() {
        AutoCloseable failing = () -> {
            throw new IOException("disk gone");
        };
        assertThatThrownBy(() -> Resources.closeAll(failing))
                .isInstanceOf(IllegalStateException.class)
                .hasCauseInstanceOf(IOException.class);
    }
}
