package dev.pgpolicy.proxy.enforce;

import dev.pgpolicy.lang.Diagnostic;
import dev.pgpolicy.policy.CompileResult;
import dev.pgpolicy.policy.PolicyCompiler;
import dev.pgpolicy.policy.PolicySet;
import dev.pgpolicy.policy.testing.PolicySources;
import dev.pgpolicy.policy.testing.PolicyTestRunner;
import dev.pgpolicy.policy.testing.TestFailure;
import dev.pgpolicy.policy.testing.TestReport;
import dev.pgpolicy.sql.SqlAnalyzer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The policy set a running proxy enforces, loaded from a directory (DESIGN.md, "Policy engine"):
 * every {@code *.pgpolicy} file under it compiled together, and every {@code *.pgtest} file under
 * it run against that set first. A set with any diagnostic error or any failing test never goes
 * live; at start that refuses the proxy, on {@link #reload()} the old set stays and the outcome
 * says why. Sessions read {@link #current()} at each statement, so a reload takes effect on the
 * next statement of every open session.
 */
public final class LivePolicy {

    private static final Logger LOG = LoggerFactory.getLogger(LivePolicy.class);
    private static final Duration GIT_TIMEOUT = Duration.ofSeconds(5);

    /** The set in force and where it came from. */
    public record Loaded(PolicySet set, Revision revision) {
        public Loaded {
            Objects.requireNonNull(set);
            Objects.requireNonNull(revision);
        }
    }

    /**
     * @param digest SHA-256 over the policy files' names and contents ({@link PolicySet#revision()})
     * @param gitCommit the checkout's HEAD when the directory is in a Git work tree
     */
    public record Revision(String digest, Optional<String> gitCommit) {
        @Override
        public String toString() {
            return gitCommit.map(commit -> "git " + commit + ", ").orElse("") + "sha256 " + digest;
        }
    }

    /** What a load or reload did: either the new set is live, or it was refused with these problems. */
    public record Outcome(boolean loaded, Revision revision, List<String> problems) {
        public Outcome {
            problems = List.copyOf(problems);
        }
    }

    /** Thrown when the directory's set cannot go live at start; the message lists every problem. */
    public static final class RefusedException extends IllegalArgumentException {
        private final List<String> problems;

        RefusedException(Path directory, List<String> problems) {
            super("the policy set in " + PolicySources.display(directory) + " was refused:\n  "
                    + String.join("\n  ", problems));
            this.problems = List.copyOf(problems);
        }

        public List<String> problems() {
            return problems;
        }
    }

    private final Path directory;
    private final SqlAnalyzer testAnalyzer;
    private final AtomicReference<Loaded> live = new AtomicReference<>();
    /** Serializes reloads from every trigger (SIGHUP, admin endpoint, file watch). */
    private final Object reloadLock = new Object();
    /**
     * {@link #sourcesDigest(Path)} taken just before the last attempt read the files, whatever its
     * outcome; guarded by {@link #reloadLock}. Taken before reading, so a change that lands during
     * an attempt makes the next comparison differ instead of being mistaken for what was loaded.
     */
    private String attemptedSources;

    private LivePolicy(Path directory, SqlAnalyzer testAnalyzer) {
        this.directory = directory;
        this.testAnalyzer = testAnalyzer;
    }

    /**
     * Loads the set in {@code directory}, running its tests with {@code testAnalyzer} (the caller
     * keeps it open and closes it). Throws {@link RefusedException} when the set cannot go live.
     */
    public static LivePolicy load(Path directory, SqlAnalyzer testAnalyzer) {
        LivePolicy policy = new LivePolicy(Objects.requireNonNull(directory), Objects.requireNonNull(testAnalyzer));
        policy.attemptedSources = sourcesDigest(directory);
        Attempt attempt = policy.attempt();
        if (attempt.loaded == null) {
            throw new RefusedException(directory, attempt.problems);
        }
        policy.live.set(attempt.loaded);
        LOG.info("policy set {} loaded: {} rule(s) from {} file(s), revision {}", PolicySources.display(directory),
                attempt.loaded.set().ruleIds().size(), attempt.loaded.set().files().size(), attempt.loaded.revision());
        return policy;
    }

    public Path directory() {
        return directory;
    }

    public Loaded current() {
        return live.get();
    }

    public PolicySet set() {
        return live.get().set();
    }

    public Revision revision() {
        return live.get().revision();
    }

    /**
     * Compiles and tests the directory again and swaps the new set in only when both succeed.
     * Safe from any thread; concurrent reloads run one after the other.
     */
    public Outcome reload() {
        synchronized (reloadLock) {
            return reloadLocked(sourcesDigest(directory));
        }
    }

    /**
     * As {@link #reload()}, but only when the {@code *.pgpolicy} and {@code *.pgtest} files differ
     * from what the last attempt (by any trigger, successful or not) read; empty when they do not.
     * A file rewritten with the same bytes, or an edit that is undone, therefore reloads nothing,
     * and a refused set is not compiled again until someone changes it.
     */
    public Optional<Outcome> reloadIfChanged() {
        synchronized (reloadLock) {
            String sources = sourcesDigest(directory);
            if (sources.equals(attemptedSources)) {
                return Optional.empty();
            }
            LOG.info("policy files in {} changed: reloading", PolicySources.display(directory));
            return Optional.of(reloadLocked(sources));
        }
    }

    /** Called with {@link #reloadLock} held. */
    private Outcome reloadLocked(String sources) {
        attemptedSources = sources;
        Attempt attempt = attempt();
        if (attempt.loaded == null) {
            Revision kept = revision();
            LOG.error("policy reload from {} refused, keeping revision {}:\n  {}", PolicySources.display(directory),
                    kept, String.join("\n  ", attempt.problems));
            return new Outcome(false, kept, attempt.problems);
        }
        Loaded previous = live.getAndSet(attempt.loaded);
        LOG.info("policy set {} reloaded: revision {} (was {})", PolicySources.display(directory),
                attempt.loaded.revision(), previous.revision());
        return new Outcome(true, attempt.loaded.revision(), List.of());
    }

    private record Attempt(Loaded loaded, List<String> problems) {
    }

    /**
     * SHA-256 over the relative name, size and bytes of every {@code *.pgpolicy} and {@code
     * *.pgtest} file under {@code directory}, in path order. Unlike the revision it covers the
     * tests too (a changed test must run again) and never fails: a file or directory that cannot
     * be read enters the digest as its error, so the attempt that reports the error still runs.
     */
    static String sourcesDigest(Path directory) {
        MessageDigest sha256;
        try {
            sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
        List<Path> files;
        try (Stream<Path> walk = Files.walk(directory)) {
            files = walk.filter(LivePolicy::isSource).sorted().toList();
        } catch (IOException | UncheckedIOException e) {
            sha256.update(("unlistable " + e).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(sha256.digest());
        }
        for (Path file : files) {
            // The name is length-prefixed so that no name/content split can collide with another.
            byte[] name = directory.relativize(file).toString().getBytes(StandardCharsets.UTF_8);
            sha256.update(ByteBuffer.allocate(Integer.BYTES).putInt(name.length).array());
            sha256.update(name);
            try {
                byte[] content = Files.readAllBytes(file);
                sha256.update(ByteBuffer.allocate(Long.BYTES).putLong(content.length).array());
                sha256.update(content);
            } catch (IOException e) {
                sha256.update(ByteBuffer.allocate(Long.BYTES).putLong(-1).array());
                sha256.update(e.toString().getBytes(StandardCharsets.UTF_8));
            }
        }
        return HexFormat.of().formatHex(sha256.digest());
    }

    /** A policy or test file, as {@link PolicySources#find} selects them. */
    static boolean isSource(Path path) {
        String name = path.getFileName() == null ? "" : path.getFileName().toString();
        return (name.endsWith(PolicySources.POLICY_SUFFIX) || name.endsWith(PolicySources.TEST_SUFFIX))
                && Files.isRegularFile(path);
    }

    private Attempt attempt() {
        List<String> problems = new ArrayList<>();
        PolicySources.Loaded sources = PolicySources.policySetWithin(directory);
        sources.diagnostics().stream().filter(Diagnostic::isError).map(Diagnostic::toString).forEach(problems::add);
        if (!problems.isEmpty()) {
            return new Attempt(null, problems);
        }
        CompileResult compiled = PolicyCompiler.compile(sources.files());
        for (Diagnostic diagnostic : compiled.diagnostics()) {
            if (diagnostic.isError()) {
                problems.add(diagnostic.toString());
            } else {
                LOG.warn("policy: {}", diagnostic);
            }
        }
        if (compiled.policySet().isEmpty() || !problems.isEmpty()) {
            return new Attempt(null, problems);
        }
        problems.addAll(runTests());
        if (!problems.isEmpty()) {
            return new Attempt(null, problems);
        }
        PolicySet set = compiled.policySet().get();
        return new Attempt(new Loaded(set, new Revision(set.revision(), gitCommit(directory))), List.of());
    }

    /** Runs every .pgtest file under the directory; returns one line per problem. */
    private List<String> runTests() {
        List<String> problems = new ArrayList<>();
        List<Diagnostic> findProblems = new ArrayList<>();
        List<Path> testFiles = PolicySources.find(directory, PolicySources.TEST_SUFFIX, findProblems);
        findProblems.stream().filter(Diagnostic::isError).map(Diagnostic::toString).forEach(problems::add);
        if (testFiles.isEmpty()) {
            LOG.warn("policy set {} has no {} files: nothing checks it before it goes live",
                    PolicySources.display(directory), PolicySources.TEST_SUFFIX);
            return problems;
        }
        TestReport report = TestReport.empty();
        try (PolicyTestRunner runner = new PolicyTestRunner(testAnalyzer, Clock.systemUTC())) {
            for (Path testFile : testFiles) {
                report = report.plus(runner.runFile(testFile));
            }
        }
        report.diagnostics().stream().filter(Diagnostic::isError).map(Diagnostic::toString).forEach(problems::add);
        for (TestFailure failure : report.failures()) {
            problems.add(failure.toString());
        }
        if (!report.successful() && problems.isEmpty()) {
            problems.add("policy tests: " + report.summary());
        }
        if (report.successful()) {
            LOG.info("policy tests in {}: {}", PolicySources.display(directory), report.summary());
        }
        return problems;
    }

    /** HEAD of the Git checkout holding {@code directory}, when there is one and git is installed. */
    static Optional<String> gitCommit(Path directory) {
        Process process;
        try {
            process = new ProcessBuilder("git", "-C", directory.toAbsolutePath().toString(), "rev-parse", "HEAD")
                    .redirectErrorStream(false)
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
        } catch (IOException e) {
            return Optional.empty(); // no git on this machine
        }
        try {
            process.getOutputStream().close();
            byte[] output = process.getInputStream().readNBytes(256);
            if (!process.waitFor(GIT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                return Optional.empty();
            }
            String commit = new String(output, StandardCharsets.US_ASCII).strip();
            return process.exitValue() == 0 && commit.matches("[0-9a-f]{40,64}") ? Optional.of(commit) : Optional.empty();
        } catch (IOException e) {
            process.destroyForcibly();
            return Optional.empty();
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }
}
