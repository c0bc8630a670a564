package dev.pgpolicy.proxy.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import dev.pgpolicy.proxy.cli.PgPolicyCommand;
import picocli.CommandLine;

/** Reads and rewrites audit files the way someone with write access to the directory could. */
final class AuditFiles {
    static final ObjectMapper JSON = new ObjectMapper();

    private AuditFiles() {
    }

    static List<Path> files(Path directory) throws IOException {
        return LogFiles.list(directory);
    }

    /** Lines with their newline removed; a torn tail, if any, is not included. */
    static List<String> lines(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        List<String> lines = new ArrayList<>(List.of(text.split("\n", -1)));
        lines.remove(lines.size() - 1);
        return lines;
    }

    static void writeLines(Path file, List<String> lines) throws IOException {
        StringBuilder text = new StringBuilder();
        for (String line : lines) {
            text.append(line).append('\n');
        }
        Files.writeString(file, text, StandardCharsets.UTF_8);
    }

    static List<JsonNode> records(Path directory) throws IOException {
        List<JsonNode> records = new ArrayList<>();
        for (Path file : files(directory)) {
            for (String line : lines(file)) {
                records.add(JSON.readTree(line));
            }
        }
        return records;
    }

    static VerifyReport verify(Path fileOrDirectory) {
        try (ChainKey key = ChainKey.unkeyed()) {
            return new AuditVerifier(key).verify(fileOrDirectory);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The whole chain under {@code audit} verifies, both in process and through {@code pgpolicy
     * audit verify} (exit 0, "OK:"), and holds records beyond {@code lastSeq}.
     */
    static void assertVerifiesBeyond(Path audit, long lastSeq) {
        VerifyReport report = verify(audit);
        assertThat(report.intact()).as(report.summary()).isTrue();
        assertThat(report.lastSeq()).isGreaterThan(lastSeq);
        Cli cli = cli("audit", "verify", audit.toString());
        assertThat(cli.exit()).as(cli.out() + cli.err()).isZero();
        assertThat(cli.out()).startsWith("OK: ");
    }

    /** Runs {@code pgpolicy args...} in process. */
    record Cli(int exit, String out, String err) {
    }

    static Cli cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine commandLine = PgPolicyCommand.newCommandLine();
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        int exit = commandLine.execute(args);
        return new Cli(exit, out.toString(), err.toString());
    }
}
