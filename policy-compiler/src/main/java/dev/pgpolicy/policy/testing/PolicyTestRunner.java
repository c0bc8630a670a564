package dev.pgpolicy.policy.testing;

import dev.pgpolicy.lang.Diagnostic;
import dev.pgpolicy.lang.ParsedTests;
import dev.pgpolicy.lang.PolicyParser;
import dev.pgpolicy.lang.Severity;
import dev.pgpolicy.lang.TestCase;
import dev.pgpolicy.lang.TestQuery;
import dev.pgpolicy.policy.CompileResult;
import dev.pgpolicy.policy.Decision;
import dev.pgpolicy.policy.PolicyCompiler;
import dev.pgpolicy.policy.PolicySet;
import dev.pgpolicy.policy.PolicyTests;
import dev.pgpolicy.policy.SearchPathResolver;
import dev.pgpolicy.policy.SessionContext;
import dev.pgpolicy.policy.SourceFile;
import dev.pgpolicy.sql.SqlAnalyzer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Runs {@code .pgtest} files (LANGUAGE.md, "Tests"). Each test file is checked against the
 * policy set made of the {@code *.pgpolicy} files of its own directory tree: the directory that
 * holds it and everything below, compiled once per directory. Sessions and expectations follow
 * {@link PolicyTests}; names resolve with the default search path, the {@code "$user"} schema
 * assumed not to exist.
 *
 * <p>A case passes when every expectation of every query holds. Problems that stop a case from
 * running (a policy set or test file with errors) fail it and are reported as diagnostics, so a
 * broken set never passes by running nothing.
 */
public final class PolicyTestRunner implements AutoCloseable {

    private static final SearchPathResolver OFFLINE_PATH = SearchPathResolver.defaultPath();

    /**
     * The proxy gives the parser a short budget so a hostile statement cannot stall a session;
     * offline, a statement that is merely slow to parse on a busy machine must not turn into
     * {@code unparsed} and flip a test's outcome, so the budget is generous.
     */
    public static final Duration OFFLINE_PARSE_BUDGET = Duration.ofSeconds(20);

    private final SqlAnalyzer analyzer;
    private final boolean ownsAnalyzer;
    private final Clock clock;
    private final Map<Path, CompileResult> setsByDirectory = new HashMap<>();

    public PolicyTestRunner() {
        this(offlineAnalyzer(), true, Clock.systemUTC());
    }

    /** An analyzer for the offline commands ({@code test}, {@code explain}); see {@link #OFFLINE_PARSE_BUDGET}. */
    public static SqlAnalyzer offlineAnalyzer() {
        return new SqlAnalyzer(SqlAnalyzer.Settings.defaults().withBudget(OFFLINE_PARSE_BUDGET));
    }

    /**
     * @param analyzer the analyzer to use; {@link #close()} leaves it open
     * @param clock    supplies "time now" for cases whose {@code as} gives no time
     */
    public PolicyTestRunner(SqlAnalyzer analyzer, Clock clock) {
        this(analyzer, false, clock);
    }

    private PolicyTestRunner(SqlAnalyzer analyzer, boolean ownsAnalyzer, Clock clock) {
        this.analyzer = analyzer;
        this.ownsAnalyzer = ownsAnalyzer;
        this.clock = clock;
    }

    @Override
    public void close() {
        if (ownsAnalyzer) {
            analyzer.close();
        }
    }

    /** Runs every {@code .pgtest} file under each root (a directory, or a {@code .pgtest} file). */
    public TestReport run(List<Path> roots) {
        TestReport report = TestReport.empty();
        for (Path root : roots) {
            if (Files.isRegularFile(root)) {
                report = report.plus(runFile(root));
                continue;
            }
            List<Diagnostic> problems = new ArrayList<>();
            List<Path> testFiles = PolicySources.find(root, PolicySources.TEST_SUFFIX, problems);
            if (testFiles.isEmpty() && problems.isEmpty()) {
                problems.add(new Diagnostic(PolicySources.display(root), 1, 1, Severity.ERROR,
                        "no " + PolicySources.TEST_SUFFIX + " files in this directory"));
            }
            report = report.plus(new TestReport(0, 0, List.of(), problems));
            for (Path testFile : testFiles) {
                report = report.plus(runFile(testFile, root));
            }
        }
        return report;
    }

    /** Runs one {@code .pgtest} file against the set of its directory tree. */
    public TestReport runFile(Path testFile) {
        return runFile(testFile, null);
    }

    /**
     * Runs one test file against the policies of the directory that holds it and everything
     * below. Tests kept in a directory of their own ({@code pci/tests/app.pgtest}) have no
     * policies there: the nearest enclosing directory that has some is their set, searched no
     * higher than {@code root} (the directory given to {@code pgpolicy test}), so a stray test
     * file never picks up an unrelated set.
     */
    private TestReport runFile(Path testFile, Path root) {
        PolicySources.Loaded loaded = PolicySources.files(List.of(testFile));
        if (loaded.files().isEmpty()) {
            return new TestReport(0, 1, List.of(), loaded.diagnostics());
        }
        SourceFile source = loaded.files().get(0);
        ParsedTests parsed = PolicyParser.parseTests(source.name(), source.text());
        List<Diagnostic> diagnostics = new ArrayList<>(parsed.diagnostics());
        diagnostics.addAll(PolicyTests.check(parsed.ast()));

        // The directory is spelled as the user spelled the test file's path, so diagnostics and
        // default rule ids (file:line) point where they look; each set compiles and reports once.
        Path directory = policyDirectory(testFile, root);
        Path key = directory.toAbsolutePath().normalize();
        CompileResult set = setsByDirectory.get(key);
        if (set == null) {
            set = compile(PolicySources.policySet(directory));
            setsByDirectory.put(key, set);
            diagnostics.addAll(set.diagnostics());
        }

        List<TestCase> cases = parsed.ast().cases();
        boolean testFileBroken = diagnostics.stream().anyMatch(d -> d.isError() && d.file().equals(source.name()));
        Optional<PolicySet> policySet = set.hasErrors() ? Optional.empty() : set.policySet();
        if (testFileBroken || policySet.isEmpty()) {
            // Nothing here can be trusted: every case fails, and a file none of whose cases
            // could be read still counts as one failure.
            return new TestReport(0, Math.max(1, cases.size()), List.of(), diagnostics);
        }
        if (cases.isEmpty()) {
            diagnostics.add(new Diagnostic(source.name(), 1, 1, Severity.ERROR, "test file has no test cases"));
            return new TestReport(0, 1, List.of(), diagnostics);
        }

        int passed = 0;
        int failed = 0;
        List<TestFailure> failures = new ArrayList<>();
        for (TestCase testCase : cases) {
            List<TestFailure> caseFailures = runCase(policySet.get(), testCase);
            if (caseFailures.isEmpty()) {
                passed++;
            } else {
                failed++;
                failures.addAll(caseFailures);
            }
        }
        return new TestReport(passed, failed, failures, diagnostics);
    }

    private static Path policyDirectory(Path testFile, Path root) {
        Path own = testFile.getParent() != null ? testFile.getParent() : Path.of(".");
        if (root == null || hasPolicies(own)) {
            return own;
        }
        Path stop = root.toAbsolutePath().normalize();
        for (Path candidate = own.getParent(); candidate != null; candidate = candidate.getParent()) {
            Path absolute = candidate.toAbsolutePath().normalize();
            if (!absolute.startsWith(stop)) {
                break;
            }
            if (hasPolicies(candidate)) {
                return candidate;
            }
        }
        return own;
    }

    private static boolean hasPolicies(Path directory) {
        return !PolicySources.find(directory, PolicySources.POLICY_SUFFIX, new ArrayList<>()).isEmpty();
    }

    private static CompileResult compile(PolicySources.Loaded loaded) {
        List<Diagnostic> diagnostics = new ArrayList<>(loaded.diagnostics());
        if (loaded.files().isEmpty()) {
            return new CompileResult(diagnostics, Optional.empty());
        }
        CompileResult result = PolicyCompiler.compile(loaded.files());
        diagnostics.addAll(result.diagnostics());
        return new CompileResult(diagnostics, result.policySet());
    }

    private List<TestFailure> runCase(PolicySet policySet, TestCase testCase) {
        List<TestFailure> failures = new ArrayList<>();
        if (testCase.queries().isEmpty()) {
            failures.add(new TestFailure(testCase.span(), testCase.name(), "test has no query"));
            return failures;
        }
        for (TestQuery query : testCase.queries()) {
            if (query.expectations().isEmpty()) {
                failures.add(new TestFailure(query.span(), testCase.name(),
                        "query has no expectation: " + abbreviate(query.sql())));
                continue;
            }
            SessionContext session = PolicyTests.session(query.session(), clock.instant(), ZoneOffset.UTC);
            Decision decision = policySet.evaluate(session, analyzer.analyze(query.sql()), OFFLINE_PATH);
            for (PolicyTests.Failure failure : PolicyTests.failures(query, decision)) {
                failures.add(new TestFailure(failure.at(), testCase.name(),
                        failure.message() + " for " + abbreviate(query.sql())));
            }
        }
        return failures;
    }

    private static String abbreviate(String sql) {
        String oneLine = sql.strip().replaceAll("\\s+", " ");
        return "\"" + (oneLine.length() <= 72 ? oneLine : oneLine.substring(0, 69) + "...") + "\"";
    }
}
