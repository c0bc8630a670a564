package dev.pgpolicy.proxy.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pgpolicy.proxy.audit.VerifyReport.Kind;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a crash leaves behind verifies up to its last complete record, and the chain goes on. */
class AuditCrashTest {
    /** 128 + SIGKILL(9): the exit status of a process killed by SIGKILL. */
    private static final int KILLED = 137;

    @TempDir
    Path work;

    @Test
    void sigkillUnderLoadThreeTimesLeavesAVerifiableChainThatTheNextWriterContinues() throws Exception {
        Path directory = work.resolve("audit");
        long lastSeq = 0;
        for (int round = 0; round < 3; round++) {
            Process child = startChild(directory, "crash-" + round, work.resolve("child-" + round + ".err"));
            try (BufferedReader out = new BufferedReader(
                    new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                assertThat(out.readLine()).as("child stderr: %s", stderr(round)).isEqualTo("READY");
                assertThatThrownBy(() -> AuditLog.open(AuditConfig.defaults(directory)))
                        .isInstanceOf(IOException.class).hasMessageContaining("in use by another process");
                // Kill while records keep arriving: wait until the log has grown past what READY saw.
                long sizeAtReady = totalSize(directory);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (totalSize(directory) < sizeAtReady + 32 * 1024 && System.nanoTime() < deadline) {
                    Thread.sleep(5);
                }
                child.destroyForcibly();
                assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
            }
            assertThat(child.exitValue()).isEqualTo(KILLED);

            VerifyReport report = AuditFiles.verify(directory);
            assertThat(report.chainBreak()).as(report.summary()).isNull();
            if (report.tornTail() != null) {
                assertThat(report.summary()).startsWith("TORN: ").contains("interrupted write");
            }
            assertThat(report.lastSeq()).isGreaterThan(lastSeq + 256);
            lastSeq = report.lastSeq();
        }

        try (AuditLog log = AuditLog.open(AuditConfig.defaults(directory).withMaxFileBytes(64 * 1024))) {
            for (int i = 0; i < 10; i++) {
                log.append(AuditRecords.statement("after-crashes", i));
            }
        }
        VerifyReport report = AuditFiles.verify(directory);
        assertThat(report.intact()).as(report.summary()).isTrue();
        assertThat(report.lastSeq()).isEqualTo(lastSeq + 11);

        List<JsonNode> starts = new ArrayList<>();
        for (JsonNode record : AuditFiles.records(directory)) {
            if (record.get("event").asText().equals("log_start")) {
                starts.add(record);
            }
        }
        assertThat(starts).filteredOn(s -> s.get("reason").asText().equals("restart")).hasSize(3);
        assertThat(AuditFiles.cli("audit", "verify", directory.toString()).exit()).isZero();
    }

    @Test
    void aTornLastLineIsReportedAsSuchAndClosedOffByTheNextStart() throws Exception {
        Path directory = work.resolve("audit");
        try (AuditLog log = AuditLog.open(AuditConfig.defaults(directory))) {
            for (int i = 0; i < 3; i++) {
                log.append(AuditRecords.statement("s", i));
            }
        }
        Path file = AuditFiles.files(directory).get(0);
        long completeBytes = Files.size(file);
        byte[] torn = "{\"seq\":5,\"time\":\"2026-11-21T10:15:".getBytes(StandardCharsets.UTF_8);
        Files.write(file, torn, StandardOpenOption.APPEND);

        VerifyReport before = AuditFiles.verify(directory);
        assertThat(before.chainBreak()).isNull();
        assertThat(before.intact()).isFalse();
        assertThat(before.lastSeq()).isEqualTo(4);
        assertThat(before.tornTail()).isEqualTo(new VerifyReport.TornTail(file, 5, completeBytes, torn.length));
        AuditFiles.Cli cli = AuditFiles.cli("audit", "verify", directory.toString());
        assertThat(cli.exit()).isEqualTo(1);
        assertThat(cli.out()).startsWith("TORN: 4 records in 1 file, chain intact up to seq 4; " + file + ":5 is an"
                + " incomplete record (" + torn.length + " bytes at offset " + completeBytes + ")");

        try (AuditLog log = AuditLog.open(AuditConfig.defaults(directory))) {
            log.append(AuditRecords.statement("s", 9));
        }
        List<Path> files = AuditFiles.files(directory);
        assertThat(files).hasSize(2);
        JsonNode start = AuditFiles.JSON.readTree(AuditFiles.lines(files.get(1)).get(0));
        assertThat(start.get("seq").asLong()).isEqualTo(5);
        assertThat(start.get("prev_file").asText()).isEqualTo(file.getFileName().toString());
        assertThat(start.get("torn").get("file").asText()).isEqualTo(file.getFileName().toString());
        assertThat(start.get("torn").get("offset").asLong()).isEqualTo(completeBytes);
        assertThat(start.get("torn").get("length").asLong()).isEqualTo(torn.length);

        VerifyReport after = AuditFiles.verify(directory);
        assertThat(after.intact()).as(after.summary()).isTrue();
        assertThat(after.notes()).singleElement().asString().contains("interrupted write, closed off by");
        assertThat(AuditFiles.cli("audit", "verify", directory.toString()).exit()).isZero();

        // Once closed off, the tail is fixed: growing it afterwards is tampering.
        Files.write(file, "more".getBytes(StandardCharsets.UTF_8), StandardOpenOption.APPEND);
        VerifyReport grown = AuditFiles.verify(directory);
        assertThat(grown.chainBreak().kind()).isEqualTo(Kind.TRUNCATED);
        assertThat(grown.chainBreak().file()).isEqualTo(file);
    }

    @Test
    void anEarlierFileEndingInsideARecordWithoutAcknowledgementIsTruncation() throws Exception {
        Path directory = work.resolve("audit");
        try (AuditLog log = AuditLog.open(AuditConfig.defaults(directory).withMaxFileBytes(4096))) {
            for (int i = 0; i < 40; i++) {
                log.append(AuditRecords.statement("s", i));
            }
        }
        Path middle = AuditFiles.files(directory).get(1);
        byte[] bytes = Files.readAllBytes(middle);
        Files.write(middle, Arrays.copyOf(bytes, bytes.length - 30));
        int lines = AuditFiles.lines(middle).size();

        VerifyReport report = AuditFiles.verify(directory);
        assertThat(report.chainBreak().kind()).isEqualTo(Kind.TRUNCATED);
        assertThat(report.chainBreak().file()).isEqualTo(middle);
        assertThat(report.chainBreak().line()).isEqualTo(lines + 1);
    }

    private Process startChild(Path directory, String session, Path stderr) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return new ProcessBuilder(java, "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                AuditCrashChild.class.getName(), directory.toString(), session)
                .redirectError(stderr.toFile())
                .start();
    }

    private String stderr(int round) throws IOException {
        Path file = work.resolve("child-" + round + ".err");
        return Files.exists(file) ? Files.readString(file) : "";
    }

    private static long totalSize(Path directory) throws IOException {
        long total = 0;
        if (Files.isDirectory(directory)) {
            for (Path file : AuditFiles.files(directory)) {
                total += Files.size(file);
            }
        }
        return total;
    }
}
