package dev.pgpolicy.proxy.session;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class SessionAttachmentsTest {

    @Test
    void eachKeyHasItsOwnValueEvenUnderTheSameName() {
        SessionAttachments attachments = new SessionAttachments();
        SessionAttachments.Key<String> first = new SessionAttachments.Key<>("hooks");
        SessionAttachments.Key<String> second = new SessionAttachments.Key<>("hooks");

        assertThat(attachments.get(first)).isNull();
        assertThat(attachments.computeIfAbsent(first, () -> "one")).isEqualTo("one");
        assertThat(attachments.computeIfAbsent(second, () -> "two")).isEqualTo("two");
        assertThat(attachments.computeIfAbsent(first, () -> "again")).isEqualTo("one");
        assertThat(attachments.get(second)).isEqualTo("two");
    }

    @Test
    void aRemovedValueIsGoneAndTheOthersStay() {
        SessionAttachments attachments = new SessionAttachments();
        List<SessionAttachments.Key<Integer>> keys = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            SessionAttachments.Key<Integer> key = new SessionAttachments.Key<>("key " + i);
            keys.add(key);
            int value = i;
            attachments.computeIfAbsent(key, () -> value);
        }

        assertThat(attachments.remove(keys.get(1))).isEqualTo(1);
        assertThat(attachments.remove(keys.get(1))).isNull();
        assertThat(attachments.get(keys.get(1))).isNull();
        assertThat(attachments.get(keys.get(0))).isEqualTo(0);
        assertThat(attachments.get(keys.get(2))).isEqualTo(2);
        assertThat(attachments.get(keys.get(3))).isEqualTo(3);
        assertThat(attachments.computeIfAbsent(keys.get(1), () -> 10)).isEqualTo(10);
    }

    /** An event loop and a decision worker may both be first to ask for a session's state: one value wins for both. */
    @Test
    void racingThreadsCreateOneValue() throws Exception {
        for (int round = 0; round < 200; round++) {
            SessionAttachments attachments = new SessionAttachments();
            SessionAttachments.Key<Object> key = new SessionAttachments.Key<>("state");
            AtomicInteger created = new AtomicInteger();
            CountDownLatch start = new CountDownLatch(1);
            Object[] seen = new Object[4];
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < seen.length; t++) {
                int slot = t;
                Thread thread = new Thread(() -> {
                    try {
                        start.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                    seen[slot] = attachments.computeIfAbsent(key, () -> {
                        created.incrementAndGet();
                        return new Object();
                    });
                });
                thread.start();
                threads.add(thread);
            }
            start.countDown();
            for (Thread thread : threads) {
                thread.join();
            }
            assertThat(created).hasValue(1);
            assertThat(seen).containsOnly(seen[0]);
        }
    }
}
