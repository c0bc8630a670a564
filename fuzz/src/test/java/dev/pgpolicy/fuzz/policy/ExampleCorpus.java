package dev.pgpolicy.fuzz.policy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** The example policy and test files of {@code policies/}, the seeds for mutation. */
final class ExampleCorpus {

    record Source(String name, String text) {
    }

    private static final Path POLICIES = locatePolicies();

    private ExampleCorpus() {
    }

    static List<Source> policyFiles() {
        return load(".pgpolicy");
    }

    static List<Source> testFiles() {
        return load(".pgtest");
    }

    private static List<Source> load(String suffix) {
        List<Source> sources = new ArrayList<>();
        try (Stream<Path> files = Files.walk(POLICIES)) {
            for (Path file : (Iterable<Path>) files.filter(p -> p.toString().endsWith(suffix)).sorted()::iterator) {
                sources.add(new Source(POLICIES.relativize(file).toString(),
                        Files.readString(file, StandardCharsets.UTF_8)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (sources.isEmpty()) {
            throw new IllegalStateException("no " + suffix + " files under " + POLICIES);
        }
        return sources;
    }

    /** Surefire runs with the module directory as working directory; the examples are a sibling. */
    private static Path locatePolicies() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("policies");
            if (Files.isDirectory(candidate.resolve("language-example"))) {
                return candidate;
            }
        }
        throw new IllegalStateException("cannot find the policies/ directory above " + Path.of("").toAbsolutePath());
    }
}
