package dev.pgpolicy.proxy.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class ExpiringLookupsTest {

    @Test
    void anAnswerIsKeptForItsLifetimeOnly() throws InterruptedException {
        ExpiringLookups<String, Boolean> lasting = new ExpiringLookups<>(Duration.ofHours(1), 10);
        ExpiringLookups<String, Boolean> brief = new ExpiringLookups<>(Duration.ofMillis(20), 10);
        lasting.put("ana", true);
        brief.put("ana", true);

        Thread.sleep(40);

        assertThat(lasting.get("ana")).isTrue();
        assertThat(brief.get("ana")).as("past its lifetime, the server is asked again").isNull();
        brief.put("ana", false);
        assertThat(brief.get("ana")).isFalse();
    }

    @Test
    void aFullMapForgetsEverythingRatherThanGrow() {
        ExpiringLookups<Integer, String> lookups = new ExpiringLookups<>(Duration.ofHours(1), 3);
        lookups.put(1, "one");
        lookups.put(2, "two");
        lookups.put(3, "three");
        assertThat(lookups.get(1)).isEqualTo("one");

        lookups.put(4, "four");

        assertThat(lookups.get(1)).isNull();
        assertThat(lookups.get(3)).isNull();
        assertThat(lookups.get(4)).isEqualTo("four");
    }

    @Test
    void invalidationRemovesTheMatchingKeysOnly() {
        ExpiringLookups<String, Boolean> lookups = new ExpiringLookups<>(Duration.ofHours(1), 10);
        lookups.put("shop/ana", true);
        lookups.put("shop/bo", false);
        lookups.put("hr/ana", true);

        lookups.removeIf(key -> key.startsWith("shop/"));

        assertThat(lookups.get("shop/ana")).isNull();
        assertThat(lookups.get("shop/bo")).isNull();
        assertThat(lookups.get("hr/ana")).isTrue();
        lookups.clear();
        assertThat(lookups.get("hr/ana")).isNull();
    }
}
