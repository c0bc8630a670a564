package dev.pgpolicy.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The short version of the soak (docs/operations.md, "Soak test"): {@code bench/soak.sh} for 90 s
 * with a reload every 12 s, run on the classes of this build. The script starts its own PostgreSQL,
 * the proxy with a realistic policy set, audit and admin endpoint, and pgbench and psql traffic
 * through it and directly; its exit status and JSON report are the verdict.
 */
class SoakTest {

    private static final int DURATION_SECONDS = 90;

    @Test
    void ninetySecondsOfMixedTrafficWithReloadsMeetEverySoakCriterion() throws Exception {
        Path script = BenchFiles.resolve("bench/soak.sh");
        // Report, JSON, logs, policies and audit log stay in target/ to be read after the run.
        Path kept = Path.of("target", "soak-run").toAbsolutePath();
        Path json = Path.of("target", "soak-run.json").toAbsolutePath();
        Path output = Path.of("target", "soak-run.out").toAbsolutePath();
        Files.createDirectories(output.getParent());
        deleteRecursively(kept); // the script refuses to keep into a directory from an earlier run
        List<String> command = new ArrayList<>(List.of("bash", script.toString(),
                "--duration", String.valueOf(DURATION_SECONDS), "--reload-every", "12",
                "--sample-every", "10", "--warmup", "20", "--clients", "2",
                "--json", json.toString(), "--keep", kept.toString(),
                // The classes under test, not a jar that `package` has not built yet.
                "--java-classpath", System.getProperty("java.class.path")));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(output.toFile());
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        Process soak = builder.start();
        // Set-up (initdb, pgbench -i, JVM start) and the drain come on top of the traffic; a loaded
        // machine can take several times as long, which is not what this test judges.
        if (!soak.waitFor(DURATION_SECONDS + 600, TimeUnit.SECONDS)) {
            soak.destroy(); // SIGTERM: the script's trap stops the proxy and PostgreSQL
            soak.waitFor(60, TimeUnit.SECONDS);
            soak.destroyForcibly();
            throw new AssertionError("soak.sh did not finish:\n" + read(output));
        }
        String printed = read(output);
        assertThat(soak.exitValue()).as("soak.sh exit status; it printed:\n%s", printed).isZero();
        assertThat(printed).contains("result: PASS");

        JsonNode report = new ObjectMapper().readTree(json.toFile());
        assertThat(report.path("pass").asBoolean()).as(printed).isTrue();
        assertThat(report.path("failures")).as(printed).isEmpty();

        JsonNode proxied = report.path("pgbench").path("proxy").path("workloads");
        assertThat(proxied).hasSize(3);
        for (JsonNode workload : proxied) {
            assertThat(workload.path("transactions").asLong()).as("%s through the proxy", workload).isPositive();
            assertThat(workload.path("failures").asLong()).as("%s through the proxy", workload).isZero();
        }
        assertThat(report.path("pgbench").path("direct").path("transactions").asLong()).isPositive();

        JsonNode psql = report.path("psql");
        assertThat(psql.path("iterations").asLong()).as(printed).isPositive();
        assertThat(psql.path("copies_checked").asLong()).isEqualTo(psql.path("iterations").asLong());
        assertThat(psql.path("notifies_checked").asLong()).isEqualTo(psql.path("iterations").asLong());
        assertThat(psql.path("unexpected").asLong()).isZero();

        // The second reload of every four is the invalid version: a 90 s run has at least one
        // applied and one refused while the old set stayed in force.
        JsonNode reloads = report.path("reloads");
        assertThat(reloads.path("applied").asInt()).as(printed).isPositive();
        assertThat(reloads.path("rejected").asInt()).as(printed).isPositive();
        assertThat(reloads.path("failed").asInt()).isZero();
        assertThat(reloads.path("metric_failure").asInt())
                .as("the proxy counted the refused reload").isGreaterThanOrEqualTo(reloads.path("rejected").asInt());
        for (JsonNode reload : reloads.path("log")) {
            if (reload.path("version").asText().equals("invalid")) {
                assertThat(reload.path("detail").asText()).matches("soak\\.pgpolicy:\\d+:\\d+: error: .*scramble.*");
            }
        }

        // 90 s is too short to judge the heap slope (the script says so); what the traffic left
        // on the idle proxy is judged.
        JsonNode heap = report.path("heap_mib");
        assertThat(heap.path("samples_after_warmup").asInt()).isPositive();
        assertThat(heap.path("idle_end").asDouble())
                .isLessThanOrEqualTo(heap.path("idle_start").asDouble() + 16);
        assertThat(report.path("fds").path("idle_end").asInt())
                .isLessThanOrEqualTo(report.path("fds").path("idle_start").asInt() + 16);
        assertThat(report.path("sessions").path("after_drain").asInt()).isZero();
        assertThat(report.path("audit").path("verified").asBoolean()).as(printed).isTrue();
        assertThat(report.path("audit").path("records_written").asLong()).isPositive();
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }

    private static String read(Path file) throws IOException {
        return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "(no output)";
    }
}
