package dev.pgpolicy.policy.testing;

import dev.pgpolicy.lang.Diagnostic;
import dev.pgpolicy.lang.Severity;
import dev.pgpolicy.policy.SourceFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Reads the files of a policy set for the offline commands. A file that cannot be read is a
 * diagnostic at {@code 1:1}, never an exception: {@code check} and {@code test} must report every
 * problem of a set in one run (LANGUAGE.md, "Files"). File names keep the spelling the user gave
 * ({@code policies/pci/access.pgpolicy}), so diagnostics point where the user looks.
 */
public final class PolicySources {

    public static final String POLICY_SUFFIX = ".pgpolicy";
    public static final String TEST_SUFFIX = ".pgtest";

    /** The readable files of a set, named for diagnostics, and the problems met while reading it. */
    public record Loaded(List<SourceFile> files, List<Diagnostic> diagnostics) {
        public Loaded {
            files = List.copyOf(files);
            diagnostics = List.copyOf(diagnostics);
        }
    }

    private PolicySources() {
    }

    /** Every {@code *.pgpolicy} file under {@code directory}, recursively, in a stable order. */
    public static Loaded policySet(Path directory) {
        return policySet(directory, PolicySources::display);
    }

    /**
     * Every {@code *.pgpolicy} file under {@code directory}, each named by its path relative to
     * the directory. A rule without {@code @id} is named {@code file:line} after its file, so
     * this keeps the ids a running proxy puts into errors and audit records the same wherever
     * the directory lives (and as docs/language.md writes them), and keeps where the
     * directory is mounted out of what clients are told.
     */
    public static Loaded policySetWithin(Path directory) {
        return policySet(directory, path -> display(directory.relativize(path)));
    }

    private static Loaded policySet(Path directory, Function<Path, String> naming) {
        List<Diagnostic> diagnostics = new ArrayList<>();
        List<Path> files = find(directory, POLICY_SUFFIX, diagnostics);
        if (files.isEmpty() && diagnostics.isEmpty()) {
            // An empty set denies everything; that is never what someone running a command meant.
            diagnostics.add(error(display(directory), "no " + POLICY_SUFFIX + " files in this directory"));
        }
        return read(files, naming, diagnostics);
    }

    /** The given files as one set, in the order given. */
    public static Loaded files(List<Path> paths) {
        return read(paths, PolicySources::display, new ArrayList<>());
    }

    /** Every file with {@code suffix} under {@code directory}, recursively, sorted by path. */
    public static List<Path> find(Path directory, String suffix, List<Diagnostic> diagnostics) {
        if (!Files.isDirectory(directory)) {
            diagnostics.add(error(display(directory), Files.exists(directory)
                    ? "not a directory" : "no such file or directory"));
            return List.of();
        }
        try (Stream<Path> walk = Files.walk(directory)) {
            return walk.filter(p -> p.getFileName().toString().endsWith(suffix) && Files.isRegularFile(p))
                    .sorted()
                    .toList();
        } catch (IOException | RuntimeException e) {
            diagnostics.add(error(display(directory), "cannot list directory: " + describe(e)));
            return List.of();
        }
    }

    private static Loaded read(List<Path> paths, Function<Path, String> naming, List<Diagnostic> diagnostics) {
        List<SourceFile> files = new ArrayList<>();
        for (Path path : paths) {
            String name = naming.apply(path);
            try {
                files.add(new SourceFile(name, decode(Files.readAllBytes(path))));
            } catch (CharacterCodingException e) {
                diagnostics.add(error(name, "file is not valid UTF-8"));
            } catch (NoSuchFileException e) {
                diagnostics.add(error(name, "no such file or directory"));
            } catch (IOException | RuntimeException e) {
                diagnostics.add(error(name, "cannot read file: " + describe(e)));
            }
        }
        return new Loaded(files, diagnostics);
    }

    /** Strict decoding: a policy with mangled bytes must not be half-understood. */
    private static String decode(byte[] bytes) throws CharacterCodingException {
        return StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(bytes))
                .toString();
    }

    /** Paths print with forward slashes, as given, so output is the same on every platform. */
    public static String display(Path path) {
        String text = path.toString().replace('\\', '/');
        return text.isEmpty() ? "." : text;
    }

    private static Diagnostic error(String file, String message) {
        return new Diagnostic(file, 1, 1, Severity.ERROR, message);
    }

    private static String describe(Exception e) {
        String message = e.getMessage();
        return message == null ? e.getClass().getSimpleName() : message;
    }
}
