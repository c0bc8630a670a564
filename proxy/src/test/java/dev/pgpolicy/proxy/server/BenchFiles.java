package dev.pgpolicy.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;

/** The repository's {@code bench/} files, for the tests that run its scripts and helpers. */
final class BenchFiles {

    private BenchFiles() {
    }

    /**
     * The repository's root, found by walking up from the working directory to the one that holds
     * {@code bench/lib.sh}: Maven runs the tests in the module's directory, an IDE often in the
     * repository's.
     */
    static Path repositoryRoot() {
        Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        for (Path candidate = dir; candidate != null; candidate = candidate.getParent()) {
            if (Files.isRegularFile(candidate.resolve("bench/lib.sh"))) {
                return candidate;
            }
        }
        throw new AssertionError("bench/lib.sh not found above " + dir);
    }

    /** The file at {@code relative} (for example {@code bench/soak.sh}) under the repository's root. */
    static Path resolve(String relative) {
        Path file = repositoryRoot().resolve(relative);
        assertThat(file).as("a file of the repository").isRegularFile();
        return file;
    }
}
