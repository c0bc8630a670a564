package dev.pgpolicy.proxy.dryrun;

import dev.pgpolicy.lang.Diagnostic;
import dev.pgpolicy.lang.Severity;
import dev.pgpolicy.policy.CompileResult;
import dev.pgpolicy.policy.PolicyCompiler;
import dev.pgpolicy.policy.PolicySet;
import dev.pgpolicy.policy.SourceFile;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Loads a policy set as LANGUAGE.md defines it: every {@code *.pgpolicy} file under a directory
 * (or one file), compiled together. Unreadable files and an empty directory are diagnostics too,
 * so a typo in a path cannot pass as an empty, deny-everything set.
 */
public final class PolicySets {
    private PolicySets() {
    }

    public record Loaded(List<Diagnostic> diagnostics, Optional<PolicySet> policySet) {
        public Loaded {
            diagnostics = List.copyOf(diagnostics);
        }

        public boolean hasErrors() {
            return policySet.isEmpty() || diagnostics.stream().anyMatch(Diagnostic::isError);
        }
    }

    public static Loaded load(Path location) {
        List<Diagnostic> diagnostics = new ArrayList<>();
        List<Path> paths = new ArrayList<>();
        String where = location.toString();
        if (Files.isDirectory(location)) {
            try (Stream<Path> walk = Files.walk(location)) {
                walk.filter(p -> p.getFileName().toString().endsWith(".pgpolicy") && Files.isRegularFile(p))
                        .sorted()
                        .forEach(paths::add);
            } catch (IOException | java.io.UncheckedIOException e) {
                diagnostics.add(new Diagnostic(where, 1, 1, Severity.ERROR, "cannot list the policy directory: " + e.getMessage()));
            }
            if (paths.isEmpty() && diagnostics.isEmpty()) {
                diagnostics.add(new Diagnostic(where, 1, 1, Severity.ERROR, "no *.pgpolicy file in this directory"));
            }
        } else if (Files.isRegularFile(location)) {
            paths.add(location);
        } else {
            diagnostics.add(new Diagnostic(where, 1, 1, Severity.ERROR, "no such policy directory or file"));
        }
        List<SourceFile> sources = new ArrayList<>();
        for (Path path : paths) {
            String name = path.toString();
            try {
                byte[] bytes = Files.readAllBytes(path);
                String text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(java.nio.ByteBuffer.wrap(bytes)).toString();
                sources.add(new SourceFile(name, text));
            } catch (CharacterCodingException e) {
                diagnostics.add(new Diagnostic(name, 1, 1, Severity.ERROR, "not UTF-8 text"));
            } catch (IOException e) {
                diagnostics.add(new Diagnostic(name, 1, 1, Severity.ERROR, "cannot read: " + e.getMessage()));
            }
        }
        if (!diagnostics.isEmpty() || sources.isEmpty()) {
            return new Loaded(diagnostics, Optional.empty());
        }
        CompileResult result = PolicyCompiler.compile(sources);
        diagnostics.addAll(result.diagnostics());
        diagnostics.sort(Diagnostic.ORDER);
        return new Loaded(diagnostics, result.policySet());
    }
}
