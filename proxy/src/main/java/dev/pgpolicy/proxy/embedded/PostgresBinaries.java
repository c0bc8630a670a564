package dev.pgpolicy.proxy.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The directory holding a PostgreSQL installation's programs ({@code initdb}, {@code pg_ctl},
 * {@code postgres}, {@code psql}, {@code pgbench}).
 *
 * <p>Looked up in this order: the {@code pgpolicy.postgres.bindir} system property, the
 * {@code PGPOLICY_PG_BINDIR} environment variable, {@code pg_config --bindir}, then the newest
 * Debian-style {@code /usr/lib/postgresql/<major>/bin}. Taking the client tools from the same
 * directory as the server avoids Debian's {@code pg_wrapper} choosing another version.
 */
public final class PostgresBinaries {
    private static final List<String> SERVER_PROGRAMS = List.of("initdb", "pg_ctl", "postgres");
    private static final Path DEBIAN_ROOT = Path.of("/usr/lib/postgresql");

    private final Path directory;

    private PostgresBinaries(Path directory) {
        this.directory = directory;
    }

    public static PostgresBinaries at(Path directory) {
        Path absolute = directory.toAbsolutePath().normalize();
        List<String> missing = missingPrograms(absolute);
        if (!missing.isEmpty()) {
            throw new EmbeddedPostgresException("PostgreSQL binaries directory " + absolute + " lacks " + missing);
        }
        return new PostgresBinaries(absolute);
    }

    public static PostgresBinaries locate() {
        List<String> tried = new ArrayList<>();
        for (Optional<Path> candidate : List.of(
                configured(System.getProperty("pgpolicy.postgres.bindir")),
                configured(System.getenv("PGPOLICY_PG_BINDIR")))) {
            if (candidate.isPresent()) {
                // An explicit choice that does not work is an error, not a reason to guess.
                return at(candidate.get());
            }
        }
        Optional<Path> fromPgConfig = pgConfigBinDir();
        if (fromPgConfig.isPresent()) {
            if (missingPrograms(fromPgConfig.get()).isEmpty()) {
                return new PostgresBinaries(fromPgConfig.get());
            }
            tried.add("pg_config --bindir = " + fromPgConfig.get() + " (lacks " + missingPrograms(fromPgConfig.get()) + ")");
        } else {
            tried.add("pg_config (not on PATH or failed)");
        }
        Optional<Path> newestDebian = newestDebianInstallation();
        if (newestDebian.isPresent()) {
            return new PostgresBinaries(newestDebian.get());
        }
        tried.add(DEBIAN_ROOT + "/*/bin (no complete installation)");
        throw new EmbeddedPostgresException("no PostgreSQL server binaries found; tried: " + String.join("; ", tried)
                + ". Install the server package (bin/install-prerequisites) or set -Dpgpolicy.postgres.bindir=DIR.");
    }

    public Path directory() {
        return directory;
    }

    public Path program(String name) {
        return directory.resolve(name);
    }

    public Path initdb() {
        return program("initdb");
    }

    public Path pgCtl() {
        return program("pg_ctl");
    }

    public Path psql() {
        return existingClient("psql");
    }

    public Path pgbench() {
        return existingClient("pgbench");
    }

    /** The first line of {@code postgres --version}, e.g. {@code postgres (PostgreSQL) 15.8 (Debian 15.8-0+deb12u1)}. */
    public String version() {
        ProcessResult result = ExternalCommand.of(program("postgres").toString(), "--version")
                .timeout(Duration.ofSeconds(30)).run();
        if (!result.succeeded()) {
            throw new EmbeddedPostgresException(result.describe());
        }
        return result.stdout().strip();
    }

    @Override
    public String toString() {
        return directory.toString();
    }

    private Path existingClient(String name) {
        Path local = program(name);
        if (Files.isExecutable(local)) {
            return local;
        }
        throw new EmbeddedPostgresException(name + " not found in " + directory
                + "; install the PostgreSQL client package (bin/install-prerequisites)");
    }

    private static Optional<Path> configured(String value) {
        return value == null || value.isBlank() ? Optional.empty() : Optional.of(Path.of(value.strip()));
    }

    private static List<String> missingPrograms(Path directory) {
        return SERVER_PROGRAMS.stream().filter(name -> !Files.isExecutable(directory.resolve(name))).toList();
    }

    private static Optional<Path> pgConfigBinDir() {
        try {
            ProcessResult result = ExternalCommand.of("pg_config", "--bindir").timeout(Duration.ofSeconds(30)).run();
            String output = result.stdout().strip();
            return result.succeeded() && !output.isEmpty() ? Optional.of(Path.of(output)) : Optional.empty();
        } catch (UncheckedIOException e) {
            return Optional.empty();
        }
    }

    private static Optional<Path> newestDebianInstallation() {
        if (!Files.isDirectory(DEBIAN_ROOT)) {
            return Optional.empty();
        }
        try (Stream<Path> versions = Files.list(DEBIAN_ROOT)) {
            return versions
                    .filter(path -> path.getFileName().toString().matches("\\d+(\\.\\d+)?"))
                    .map(path -> path.resolve("bin"))
                    .filter(bin -> missingPrograms(bin).isEmpty())
                    .max(Comparator.comparingDouble(bin -> Double.parseDouble(bin.getParent().getFileName().toString())));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + DEBIAN_ROOT, e);
        }
    }
}
