package dev.pgpolicy.proxy.audit;

import static dev.pgpolicy.proxy.audit.AuditTamperTest.assertBreak;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pgpolicy.proxy.audit.VerifyReport.Kind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditRotationTest {
    @TempDir
    Path directory;

    private AuditConfig smallFiles() {
        return AuditConfig.defaults(directory).withMaxFileBytes(4096);
    }

    private void write(AuditConfig config, String session, int count) throws Exception {
        try (AuditLog log = AuditLog.open(config)) {
            for (int i = 0; i < count; i++) {
                assertThat(log.append(AuditRecords.statement(session, i))).isTrue();
            }
        }
    }

    @Test
    void rotationBySizeContinuesTheChainAcrossFiles() throws Exception {
        write(smallFiles(), "s", 60);
        List<Path> files = AuditFiles.files(directory);
        assertThat(files).hasSizeGreaterThan(3);
        String previousName = null;
        long expectedSeq = 1;
        for (Path file : files) {
            assertThat(Files.size(file)).isLessThanOrEqualTo(4096);
            List<String> lines = AuditFiles.lines(file);
            JsonNode start = AuditFiles.JSON.readTree(lines.get(0));
            assertThat(start.get("event").asText()).isEqualTo("log_start");
            assertThat(start.get("seq").asLong()).isEqualTo(expectedSeq);
            if (previousName == null) {
                assertThat(start.get("reason").asText()).isEqualTo("new_log");
                assertThat(start.get("prev_file").isNull()).isTrue();
            } else {
                assertThat(start.get("reason").asText()).isEqualTo("rotation_size");
                assertThat(start.get("prev_file").asText()).isEqualTo(previousName);
            }
            previousName = file.getFileName().toString();
            expectedSeq += lines.size();
        }
        VerifyReport report = AuditFiles.verify(directory);
        assertThat(report.intact()).as(report.summary()).isTrue();
        assertThat(report.records()).isEqualTo(60 + files.size());
        AuditFiles.Cli cli = AuditFiles.cli("audit", "verify", directory.toString());
        assertThat(cli.exit()).isZero();
        assertThat(cli.out().trim()).isEqualTo("OK: " + (60 + files.size()) + " records in " + files.size()
                + " files, chain intact");
    }

    @Test
    void removingAMiddleFileIsDetected() throws Exception {
        write(smallFiles(), "s", 60);
        List<Path> files = AuditFiles.files(directory);
        Files.delete(files.get(1));

        VerifyReport report = AuditFiles.verify(directory);
        assertBreak(report, 1, report.chainBreak().seq(), Kind.FILE_MISSING);
        assertThat(report.chainBreak().file()).isEqualTo(files.get(2));
        assertThat(report.chainBreak().reason()).contains(files.get(1).getFileName().toString()).contains("missing");
        assertThat(AuditFiles.cli("audit", "verify", directory.toString()).exit()).isEqualTo(1);
    }

    @Test
    void cuttingTheLastRecordsOfAnEarlierFileIsDetectedByTheNextFile() throws Exception {
        write(smallFiles(), "s", 60);
        List<Path> files = AuditFiles.files(directory);
        List<String> lines = new ArrayList<>(AuditFiles.lines(files.get(1)));
        AuditFiles.writeLines(files.get(1), lines.subList(0, lines.size() - 2));

        VerifyReport report = AuditFiles.verify(directory);
        assertThat(report.chainBreak().file()).isEqualTo(files.get(2));
        assertBreak(report, 1, report.chainBreak().seq(), Kind.DELETED);
    }

    @Test
    void theOldestFilesMayBeRetiredWithoutBreakingTheRest() throws Exception {
        write(smallFiles(), "s", 60);
        List<Path> files = AuditFiles.files(directory);
        Files.delete(files.get(0));

        VerifyReport report = AuditFiles.verify(directory);
        assertThat(report.intact()).as(report.summary()).isTrue();
        assertThat(report.notes()).singleElement().asString().contains("continues the chain from "
                + files.get(0).getFileName());
    }

    @Test
    void aRestartContinuesTheChainInANewFile() throws Exception {
        write(AuditConfig.defaults(directory), "first", 3);
        write(AuditConfig.defaults(directory), "second", 3);
        List<Path> files = AuditFiles.files(directory);
        assertThat(files).hasSize(2);
        JsonNode start = AuditFiles.JSON.readTree(AuditFiles.lines(files.get(1)).get(0));
        assertThat(start.get("reason").asText()).isEqualTo("restart");
        assertThat(start.get("seq").asLong()).isEqualTo(5);
        assertThat(start.get("prev_file").asText()).isEqualTo(files.get(0).getFileName().toString());
        assertThat(start.get("torn").isNull()).isTrue();
        VerifyReport report = AuditFiles.verify(directory);
        assertThat(report.intact()).as(report.summary()).isTrue();
        assertThat(report.lastSeq()).isEqualTo(8);
    }

    @Test
    void onlyOneLogWritesToADirectory() throws Exception {
        try (AuditLog first = AuditLog.open(AuditConfig.defaults(directory))) {
            assertThatThrownBy(() -> AuditLog.open(AuditConfig.defaults(directory)))
                    .isInstanceOf(IOException.class).hasMessageContaining("in use");
            assertThat(first.append(AuditRecords.statement("s", 1))).isTrue();
        }
        try (AuditLog second = AuditLog.open(AuditConfig.defaults(directory))) {
            assertThat(second.append(AuditRecords.statement("s", 2))).isTrue();
        }
        assertThat(AuditFiles.verify(directory).intact()).isTrue();
    }

    @Test
    void rotationByTimeStartsANewFileOnceTheIntervalHasPassed() throws Exception {
        SteppingClock clock = new SteppingClock(Instant.parse("2026-11-21T00:00:00Z"));
        AuditConfig config = AuditConfig.defaults(directory).withRotationInterval(Duration.ofHours(1));
        try (AuditLog log = AuditLog.open(config, clock)) {
            log.appendConfirmed(AuditRecords.statement("s", 1)).get();
            clock.advance(Duration.ofMinutes(59));
            log.appendConfirmed(AuditRecords.statement("s", 2)).get();
            clock.advance(Duration.ofMinutes(1));
            log.appendConfirmed(AuditRecords.statement("s", 3)).get();
        }
        List<Path> files = AuditFiles.files(directory);
        assertThat(files).hasSize(2);
        assertThat(files.get(1).getFileName().toString()).isEqualTo("audit-00000000000000000004-20261121T010000Z.jsonl");
        JsonNode start = AuditFiles.JSON.readTree(AuditFiles.lines(files.get(1)).get(0));
        assertThat(start.get("reason").asText()).isEqualTo("rotation_time");
        assertThat(AuditFiles.verify(directory).intact()).isTrue();
    }

    /** A clock the test moves by hand; read by the writer thread. */
    static final class SteppingClock extends Clock {
        private volatile Instant now;

        SteppingClock(Instant start) {
            now = start;
        }

        void advance(Duration step) {
            now = now.plus(step);
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
            return now;
        }
    }
}
