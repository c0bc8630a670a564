package dev.pgpolicy.proxy.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The log reports when it cannot write, so that {@code audit.fail_closed} can refuse statements.
 * The tests run as root, for whom permission bits do not stop writes; a regular file standing
 * where the directory should be stops everyone (ENOTDIR).
 */
class AuditFailClosedTest {
    @TempDir
    Path work;

    @Test
    void aDirectoryThatCannotBeWrittenMakesTheLogUnhealthyAndRefuseUntilItRecovers() throws Exception {
        Path directory = work.resolve("audit");
        Path movedAway = work.resolve("audit-moved");
        AuditConfig config = AuditConfig.defaults(directory).withMaxFileBytes(2048).withFailClosed(true)
                .withRetryInterval(Duration.ofMillis(20));
        try (AuditLog log = AuditLog.open(config)) {
            assertThat(log.failClosed()).isTrue();
            log.appendConfirmed(AuditRecords.statement("s", 0)).get();
            assertThat(log.healthy()).isTrue();

            // The open file still accepts bytes; the next rotation needs the directory and fails.
            Files.move(directory, movedAway);
            Files.writeString(directory, "not a directory");
            ExecutionException failed = null;
            for (int i = 1; i < 100 && failed == null; i++) {
                try {
                    log.appendConfirmed(AuditRecords.statement("s", i)).get(30, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    failed = e;
                }
            }
            assertThat(failed).isNotNull();
            assertThat(failed.getCause()).isInstanceOf(AuditUnavailableException.class);
            assertThat(log.healthy()).isFalse();
            assertThat(log.failure()).isNotNull();
            assertThat(log.writeFailures()).isPositive();

            long refusedBefore = log.recordsRefused();
            assertThat(log.append(AuditRecords.statement("s", 1000))).isFalse();
            CompletableFuture<Void> refused = log.appendConfirmed(AuditRecords.statement("s", 1001));
            assertThatThrownBy(refused::get).hasCauseInstanceOf(AuditUnavailableException.class);
            assertThat(log.recordsRefused()).isEqualTo(refusedBefore + 2);

            Files.delete(directory);
            Files.move(movedAway, directory);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!log.healthy() && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(log.healthy()).isTrue();
            assertThat(log.failure()).isNull();
            log.appendConfirmed(AuditRecords.statement("after", 1)).get();
        }

        VerifyReport report = AuditFiles.verify(directory);
        assertThat(report.intact()).as(report.summary()).isTrue();
        List<JsonNode> records = AuditFiles.records(directory);
        JsonNode recovery = records.stream()
                .filter(r -> r.get("event").asText().equals("log_start") && r.get("reason").asText().equals("recovery"))
                .findFirst().orElseThrow();
        assertThat(recovery.get("lost").asLong()).isGreaterThanOrEqualTo(3);
        assertThat(recovery.get("detail").asText()).startsWith("resumed after a write error");
        assertThat(records.get(records.size() - 1).get("session").asText()).isEqualTo("after");
    }

    @Test
    void aFullQueueRefusesWithoutBlockingAndDrainsAfterwards() throws Exception {
        GateClock clock = new GateClock();
        AuditConfig config = AuditConfig.defaults(work.resolve("audit")).withQueueCapacity(1).withFailClosed(true);
        try (AuditLog log = AuditLog.open(config, clock)) {
            clock.arm();
            CompletableFuture<Void> first = log.appendConfirmed(AuditRecords.statement("s", 1));
            // The writer holds the first record and waits in the clock; the queue holds one more.
            clock.entered.await();
            assertThat(log.append(AuditRecords.statement("s", 2))).isTrue();
            assertThat(log.healthy()).isFalse();
            assertThat(log.append(AuditRecords.statement("s", 3))).isFalse();
            assertThat(log.recordsRefused()).isEqualTo(1);
            clock.release.countDown();
            first.get();
        }
        VerifyReport report = AuditFiles.verify(work.resolve("audit"));
        assertThat(report.intact()).as(report.summary()).isTrue();
        assertThat(report.records()).isEqualTo(3);
    }

    /** A UTC clock that, once armed, makes the next reader wait until released. */
    static final class GateClock extends Clock {
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        private volatile boolean armed;

        void arm() {
            armed = true;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            throw new UnsupportedOperationException("UTC only");
        }

        @Override
        public Instant instant() {
            if (armed) {
                armed = false;
                entered.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return Instant.now();
        }
    }

    @Test
    void aClosedLogRefusesAndReportsUnhealthy() throws Exception {
        AuditLog log = AuditLog.open(AuditConfig.defaults(work.resolve("audit")).withFailClosed(true));
        assertThat(log.append(AuditRecords.statement("s", 1))).isTrue();
        log.close();
        assertThat(log.healthy()).isFalse();
        assertThat(log.append(AuditRecords.statement("s", 2))).isFalse();
        assertThatThrownBy(() -> log.appendConfirmed(AuditRecords.statement("s", 3)).get())
                .hasCauseInstanceOf(AuditUnavailableException.class).hasMessageContaining("closed");
        assertThat(log.recordsWritten()).isEqualTo(1);
        assertThat(log.recordsRefused()).isEqualTo(2);
    }

    @Test
    void aLogThatCannotCreateItsDirectoryDoesNotOpen() throws Exception {
        Path notADirectory = work.resolve("file");
        Files.writeString(notADirectory, "x");
        assertThatThrownBy(() -> AuditLog.open(AuditConfig.defaults(notADirectory.resolve("audit"))))
                .isInstanceOf(IOException.class);
    }
}
