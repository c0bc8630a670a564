package dev.pgpolicy.proxy.audit;

import static dev.pgpolicy.proxy.audit.AuditTamperTest.assertBreak;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import dev.pgpolicy.proxy.audit.VerifyReport.Kind;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

class AuditHmacTest {
    @TempDir
    Path work;
    Path directory;
    Path keyFile;
    Path wrongKeyFile;

    @BeforeEach
    void keys() throws IOException {
        directory = work.resolve("audit");
        keyFile = key("audit.key", "5f0c2a7e91d34b6a8c1e0f2d3b4a5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b\n");
        wrongKeyFile = key("wrong.key", "5f0c2a7e91d34b6a8c1e0f2d3b4a5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2c\n");
    }

    private Path key(String name, String text) throws IOException {
        Path file = work.resolve(name);
        Files.writeString(file, text, StandardCharsets.US_ASCII);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        return file;
    }

    private void writeKeyed(int count) throws Exception {
        try (AuditLog log = AuditLog.open(AuditConfig.defaults(directory).withHmacKeyFile(keyFile).withMaxFileBytes(4096))) {
            for (int i = 0; i < count; i++) {
                log.append(AuditRecords.statement("s", i));
            }
        }
    }

    private VerifyReport verifyWith(Path key) throws IOException {
        try (ChainKey chainKey = ChainKey.fromFile(key)) {
            return new AuditVerifier(chainKey).verify(directory);
        }
    }

    @Test
    void theRightKeyVerifiesAcrossRotatedFiles() throws Exception {
        writeKeyed(40);
        assertThat(AuditFiles.files(directory)).hasSizeGreaterThan(1);
        assertThat(AuditFiles.records(directory)).allSatisfy(r -> assertThat(r.get("alg").asText()).isEqualTo("hmac-sha256"));
        VerifyReport report = verifyWith(keyFile);
        assertThat(report.intact()).as(report.summary()).isTrue();

        AuditFiles.Cli cli = AuditFiles.cli("audit", "verify", "--key", keyFile.toString(), directory.toString());
        assertThat(cli.exit()).isZero();
        assertThat(cli.out()).startsWith("OK: ");
    }

    @Test
    void aWrongKeyFailsOnTheFirstRecord() throws Exception {
        writeKeyed(5);
        assertBreak(verifyWith(wrongKeyFile), 1, 1L, Kind.EDITED);
        AuditFiles.Cli cli = AuditFiles.cli("audit", "verify", "--key", wrongKeyFile.toString(), directory.toString());
        assertThat(cli.exit()).isEqualTo(1);
        assertThat(cli.out()).contains("wrong key");
    }

    @Test
    void aKeyedChainWithoutAKeyIsAClearError() throws Exception {
        writeKeyed(5);
        assertThat(AuditFiles.verify(directory).chainBreak().kind()).isEqualTo(Kind.KEY_REQUIRED);
        AuditFiles.Cli cli = AuditFiles.cli("audit", "verify", directory.toString());
        assertThat(cli.exit()).isEqualTo(2);
        assertThat(cli.out()).isEmpty();
        assertThat(cli.err()).contains("keyed (hmac-sha256)").contains("--key FILE");
    }

    @Test
    void editingAKeyedRecordIsCaught() throws Exception {
        writeKeyed(5);
        Path file = AuditFiles.files(directory).get(0);
        List<String> lines = new ArrayList<>(AuditFiles.lines(file));
        lines.set(2, lines.get(2).replace("\"rows\":1", "\"rows\":0"));
        AuditFiles.writeLines(file, lines);
        assertBreak(verifyWith(keyFile), 3, 3L, Kind.EDITED);
    }

    @Test
    void givenAKeyAnUnkeyedChainIsRefusedAsADowngrade() throws Exception {
        try (AuditLog log = AuditLog.open(AuditConfig.defaults(directory))) {
            log.append(AuditRecords.statement("s", 1));
        }
        assertBreak(verifyWith(keyFile), 1, 1L, Kind.ALGORITHM);
    }

    @Test
    void theWriterRefusesToContinueAKeyedChainWithoutItsKey() throws Exception {
        writeKeyed(3);
        assertThatThrownBy(() -> AuditLog.open(AuditConfig.defaults(directory)))
                .isInstanceOf(IOException.class).hasMessageContaining("hmac-sha256");
        assertThatThrownBy(() -> AuditLog.open(AuditConfig.defaults(directory).withHmacKeyFile(wrongKeyFile)))
                .isInstanceOf(IOException.class).hasMessageContaining("does not match");
        writeKeyed(3);
        assertThat(verifyWith(keyFile).intact()).isTrue();
    }

    @Test
    void aKeyFileOthersCanReadIsReportedWithoutRevealingTheKey() throws Exception {
        Path shared = key("shared.key", Files.readString(keyFile));
        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rw-r--r--"));
        Logger logger = (Logger) LoggerFactory.getLogger(ChainKey.class);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        logger.addAppender(appender);
        try (ChainKey chainKey = ChainKey.fromFile(shared)) {
            assertThat(chainKey.keyed()).isTrue();
        } finally {
            logger.detachAppender(appender);
        }
        assertThat(appender.list).singleElement().satisfies(event -> {
            assertThat(event.getLevel()).isEqualTo(Level.WARN);
            assertThat(event.getFormattedMessage()).contains("shared.key").contains("chmod 600")
                    .doesNotContain(Files.readString(keyFile).trim());
        });
    }

    @Test
    void theKeyIsNeverWrittenAndShortKeysAreRefused() throws Exception {
        writeKeyed(3);
        String key = Files.readString(keyFile).trim();
        for (Path file : AuditFiles.files(directory)) {
            assertThat(Files.readString(file)).doesNotContain(key);
        }
        for (JsonNode record : AuditFiles.records(directory)) {
            assertThat(record.toString()).doesNotContain(key);
        }
        Path shortKey = key("short.key", "too short\n");
        assertThatThrownBy(() -> ChainKey.fromFile(shortKey)).isInstanceOf(IOException.class)
                .hasMessageContaining("at least 32");
        try (ChainKey chainKey = ChainKey.fromFile(keyFile)) {
            assertThat(chainKey.toString()).doesNotContain(key).contains("hmac-sha256");
        }
    }
}
