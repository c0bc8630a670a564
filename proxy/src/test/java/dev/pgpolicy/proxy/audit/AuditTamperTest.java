package dev.pgpolicy.proxy.audit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpolicy.proxy.audit.VerifyReport.Kind;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every way of changing a written log that the acceptance names is caught and located. */
class AuditTamperTest {
    @TempDir
    Path directory;
    Path file;

    @BeforeEach
    void writeLog() throws Exception {
        try (AuditLog log = AuditLog.open(AuditConfig.defaults(directory))) {
            for (AuditRecord record : AuditRecords.session("s-1")) {
                log.append(record);
            }
            for (int i = 0; i < 5; i++) {
                log.append(AuditRecords.statement("s-2", i));
            }
        }
        file = AuditFiles.files(directory).get(0);
        assertThat(AuditFiles.lines(file)).hasSize(13);
        assertThat(AuditFiles.verify(directory).intact()).isTrue();
    }

    @Test
    void editingOneByteIsNamedAsAnEditedRecord() throws Exception {
        byte[] bytes = Files.readAllBytes(file);
        int at = indexOf(bytes, "\"user\":\"ana\"", nthLineStart(bytes, 4));
        bytes[at + 9] = 'o';
        Files.write(file, bytes);

        VerifyReport report = AuditFiles.verify(directory);
        assertBreak(report, 4, 4L, Kind.EDITED);
        AuditFiles.Cli cli = AuditFiles.cli("audit", "verify", directory.toString());
        assertThat(cli.exit()).isEqualTo(1);
        assertThat(cli.out()).startsWith("FAILED: " + file + ":4 (seq 4): hash does not match the record");
    }

    @Test
    void anEditWithARecomputedHashBreaksTheNextRecordsPrev() throws Exception {
        List<String> lines = new ArrayList<>(AuditFiles.lines(file));
        String edited = lines.get(5).replace("\"decision\":\"allow\"", "\"decision\":\"deny\"");
        int cut = edited.lastIndexOf(",\"hash\":\"");
        String body = edited.substring(0, cut);
        String hash = HexFormat.of().formatHex(
                MessageDigest.getInstance("SHA-256").digest(body.getBytes(StandardCharsets.UTF_8)));
        lines.set(5, body + ",\"hash\":\"" + hash + "\"}");
        AuditFiles.writeLines(file, lines);

        assertBreak(AuditFiles.verify(directory), 7, 7L, Kind.PREV_MISMATCH);
    }

    @Test
    void deletingARecordIsNamedAsASeqGap() throws Exception {
        List<String> lines = new ArrayList<>(AuditFiles.lines(file));
        lines.remove(6);
        AuditFiles.writeLines(file, lines);

        VerifyReport report = AuditFiles.verify(directory);
        assertBreak(report, 7, 8L, Kind.DELETED);
        assertThat(report.chainBreak().reason()).contains("expected seq 7");
    }

    @Test
    void deletingTheFirstRecordOfAFileIsNamedAsTruncation() throws Exception {
        List<String> lines = new ArrayList<>(AuditFiles.lines(file));
        lines.remove(0);
        AuditFiles.writeLines(file, lines);
        assertBreak(AuditFiles.verify(directory), 1, 2L, Kind.TRUNCATED);
    }

    @Test
    void swappingTwoRecordsIsNamedAsReordered() throws Exception {
        List<String> lines = new ArrayList<>(AuditFiles.lines(file));
        String third = lines.get(2);
        lines.set(2, lines.get(3));
        lines.set(3, third);
        AuditFiles.writeLines(file, lines);

        VerifyReport report = AuditFiles.verify(directory);
        assertBreak(report, 3, 4L, Kind.REORDERED);
        assertThat(report.chainBreak().reason()).contains("seq 3 is at line 4");
    }

    @Test
    void cuttingOutTheMiddleOfTheFileIsNamed() throws Exception {
        byte[] bytes = Files.readAllBytes(file);
        int from = nthLineStart(bytes, 5) + 40;
        int to = nthLineStart(bytes, 8) + 60;
        byte[] cut = new byte[bytes.length - (to - from)];
        System.arraycopy(bytes, 0, cut, 0, from);
        System.arraycopy(bytes, to, cut, from, bytes.length - to);
        Files.write(file, cut);

        VerifyReport report = AuditFiles.verify(directory);
        assertThat(report.intact()).isFalse();
        assertThat(report.chainBreak().line()).isEqualTo(5);
        assertThat(report.chainBreak().kind()).isIn(Kind.MALFORMED, Kind.EDITED);
        assertThat(AuditFiles.cli("audit", "verify", directory.toString()).out()).startsWith("FAILED: " + file + ":5");
    }

    @Test
    void aLineThatIsNotJsonIsNamedAsMalformed() throws Exception {
        List<String> lines = new ArrayList<>(AuditFiles.lines(file));
        lines.add(9, "an operator's note");
        AuditFiles.writeLines(file, lines);
        assertBreak(AuditFiles.verify(directory), 10, null, Kind.MALFORMED);
    }

    @Test
    void aDuplicatedFieldCannotHideAnEdit() throws Exception {
        List<String> lines = new ArrayList<>(AuditFiles.lines(file));
        lines.set(3, lines.get(3).replace("{\"seq\":4,", "{\"seq\":4,\"seq\":4,"));
        AuditFiles.writeLines(file, lines);
        assertBreak(AuditFiles.verify(directory), 4, null, Kind.MALFORMED);
    }

    static void assertBreak(VerifyReport report, int line, Long seq, Kind kind) {
        assertThat(report.intact()).isFalse();
        assertThat(report.chainBreak()).as(report.summary()).isNotNull();
        assertThat(report.chainBreak().kind()).as(report.summary()).isEqualTo(kind);
        assertThat(report.chainBreak().line()).as(report.summary()).isEqualTo(line);
        assertThat(report.chainBreak().seq()).as(report.summary()).isEqualTo(seq);
        assertThat(report.summary()).startsWith("FAILED: ");
    }

    /** Offset of the first byte of 1-based line {@code n}. */
    static int nthLineStart(byte[] bytes, int n) {
        int line = 1;
        for (int i = 0; i < bytes.length && line < n; i++) {
            if (bytes[i] == '\n') {
                line++;
                if (line == n) {
                    return i + 1;
                }
            }
        }
        if (n == 1) {
            return 0;
        }
        throw new AssertionError("no line " + n);
    }

    static int indexOf(byte[] bytes, String text, int from) {
        byte[] needle = text.getBytes(StandardCharsets.UTF_8);
        for (int i = from; i + needle.length <= bytes.length; i++) {
            if (Arrays.equals(bytes, i, i + needle.length, needle, 0, needle.length)) {
                return i;
            }
        }
        throw new AssertionError(text + " not found");
    }
}
