package dev.pgpolicy.bench;

import dev.pgpolicy.policy.CompileResult;
import dev.pgpolicy.policy.PolicyCompiler;
import dev.pgpolicy.policy.PolicySet;
import dev.pgpolicy.policy.SourceFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Loads an example policy set from {@code policies/} for the benchmarks, so they measure a
 * realistic set (dozens of rules, masks, guards, limits) rather than a toy. The directory is
 * found from the working directory upwards ({@code bench/run-jmh.sh} runs from the repository
 * root), or given with {@code -Dpgpolicy.policies=DIR}.
 */
final class ExamplePolicies {

    private ExamplePolicies() {
    }

    static PolicySet compile(String setName) {
        Path directory = locate().resolve(setName);
        List<SourceFile> files = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(directory)) {
            for (Path file : (Iterable<Path>) walk.filter(p -> p.toString().endsWith(".pgpolicy")).sorted()::iterator) {
                files.add(new SourceFile(file.toString(), Files.readString(file)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        CompileResult result = PolicyCompiler.compile(files);
        if (result.hasErrors()) {
            throw new IllegalStateException("example set " + setName + " does not compile: " + result.errors());
        }
        return result.policySet().orElseThrow();
    }

    private static Path locate() {
        String configured = System.getProperty("pgpolicy.policies");
        if (configured != null) {
            return Path.of(configured);
        }
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("policies");
            if (Files.isDirectory(candidate.resolve("pci-payments"))) {
                return candidate;
            }
        }
        throw new IllegalStateException("cannot find policies/ above " + Path.of("").toAbsolutePath()
                + "; run from the repository root or pass -Dpgpolicy.policies=DIR");
    }
}
