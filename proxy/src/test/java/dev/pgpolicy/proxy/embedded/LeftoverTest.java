package dev.pgpolicy.proxy.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Nothing stays running when the JVM goes away: by the shutdown hook, or by reaping after SIGKILL. */
class LeftoverTest {

    @Test
    void terminatingTheJvmStopsTheClusterAndDeletesItsDirectory(@TempDir Path temp) throws Exception {
        Process child = startChildJvm(reachableByServer(temp));
        try {
            String[] ready = readReadyLine(child);
            long postmaster = Long.parseLong(ready[1]);
            Path directory = Path.of(ready[2]);
            assertThat(ProcessHandle.of(postmaster)).isPresent();

            child.destroy(); // SIGTERM, as from Ctrl-C or a CI cancel: runs the shutdown hooks.
            assertThat(child.waitFor(2, TimeUnit.MINUTES)).as("child JVM exited").isTrue();

            assertThat(ProcessHandle.of(postmaster).map(ProcessHandle::isAlive).orElse(false)).isFalse();
            assertThat(directory).doesNotExist();
        } finally {
            child.destroyForcibly();
        }
    }

    @Test
    void clusterOfAKilledJvmIsReapedByTheNextStart(@TempDir Path temp) throws Exception {
        // A private java.io.tmpdir for the child, so no other JVM's start reaps its cluster first.
        Process child = startChildJvm(reachableByServer(temp));
        long postmaster;
        Path directory;
        try {
            String[] ready = readReadyLine(child);
            postmaster = Long.parseLong(ready[1]);
            directory = Path.of(ready[2]);
        } finally {
            child.destroyForcibly(); // SIGKILL: no shutdown hook runs.
            child.waitFor(1, TimeUnit.MINUTES);
        }
        assertThat(ProcessHandle.of(postmaster).map(ProcessHandle::isAlive).orElse(false))
                .as("the postmaster outlives a SIGKILLed JVM").isTrue();
        assertThat(directory).exists();

        EmbeddedPostgres.reapOrphans(directory.getParent(), PostgresBinaries.locate());

        assertThat(ProcessHandle.of(postmaster).map(ProcessHandle::isAlive).orElse(false)).isFalse();
        assertThat(directory).doesNotExist();
    }

    @Test
    void reapingLeavesClustersOfLiveJvmsAlone() {
        try (EmbeddedPostgres mine = EmbeddedPostgres.start()) {
            EmbeddedPostgres.reapOrphans(mine.baseDirectory().getParent(), mine.binaries());
            assertThat(mine.isRunning()).isTrue();
            assertThat(mine.dataDirectory()).exists();
        }
    }

    /** JUnit creates temporary directories 0700; the server account must be able to pass through. */
    private static Path reachableByServer(Path directory) throws Exception {
        Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwx--x--x"));
        return directory;
    }

    private static Process startChildJvm(Path tmpdir) throws Exception {
        // Surefire puts the test classpath in this property; java.class.path is its booter jar.
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        return new ProcessBuilder(List.of(java.toString(), "-Djava.io.tmpdir=" + tmpdir, "-cp", classpath,
                        ClusterInChildJvm.class.getName()))
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
    }

    private static String[] readReadyLine(Process child) throws Exception {
        BufferedReader reader = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
        for (String line = reader.readLine(); line != null; line = reader.readLine()) {
            if (line.startsWith("READY ")) {
                String[] fields = line.split(" ", 3);
                assertThat(Files.isDirectory(Path.of(fields[2]))).isTrue();
                return fields;
            }
        }
        throw new AssertionError("child JVM exited before its cluster was ready, exit " + child.waitFor());
    }
}
