package dev.pgpolicy.policy.testing;

import dev.pgpolicy.lang.Diagnostic;
import dev.pgpolicy.lang.Expectation;
import dev.pgpolicy.lang.ParsedTests;
import dev.pgpolicy.lang.PolicyParser;
import dev.pgpolicy.lang.Severity;
import dev.pgpolicy.lang.TestCase;
import dev.pgpolicy.lang.TestQuery;
import dev.pgpolicy.policy.testing.ObservedDecision.AppliedMask;
import dev.pgpolicy.sql.SqlAnalyzer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Runs {@code .pgtest} files (LANGUAGE.md, "Tests"). Each test file is checked against the
 * policy set made of the {@code *.pgpolicy} files of its own directory tree: the directory that
 * holds it and everything below, compiled once per directory. Sessions come from {@code as}
 * with the documented defaults ({@link OfflineSession}); names resolve with the default search
 * path, the {@code "$user"} schema assumed not to exist.
 *
 * <p>A case passes when every expectation of every query holds. Problems that stop a case from
 * running (a policy set or test file with errors) fail the case and are reported as
 * diagnostics, so a broken set can never pass by running nothing.
 */
public final class PolicyTestRunner implements AutoCloseable {

    private final SqlAnalyzer analyzer;
    private final boolean ownsAnalyzer;
    private final OfflineEngine engine;
    private final Clock clock;
    private final Map<Path, OfflineEngine.CompiledSet> setsByDirectory = new HashMap<>();

    public PolicyTestRunner() {
        this(new SqlAnalyzer(), true, Clock.systemUTC());
    }

    /**
     * @param analyzer the analyzer to use, left open by {@link #close()}
     * @param clock    supplies "time now" for cases whose {@code as} gives no time
     */
    public PolicyTestRunner(SqlAnalyzer analyzer, Clock clock) {
        this(analyzer, false, clock);
    }

    private PolicyTestRunner(SqlAnalyzer analyzer, boolean ownsAnalyzer, Clock clock) {
        this.analyzer = analyzer;
        this.ownsAnalyzer = ownsAnalyzer;
        this.engine = new OfflineEngine(analyzer);
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
                report = report.plus(runFile(testFile));
            }
        }
        return report;
    }

    public TestReport runFile(Path testFile) {
        PolicySources.Loaded loaded = PolicySources.files(List.of(testFile));
        if (loaded.files().isEmpty()) {
            return new TestReport(0, 1, List.of(), loaded.diagnostics());
        }
        PolicySources.SourceFile source = loaded.files().get(0);
        ParsedTests parsed = PolicyParser.parseTests(source.name(), source.text());
        // The set of the file's own directory tree, spelled as the user spelled the test file's
        // path so diagnostics point where they look; compiled and reported once per directory.
        Path directory = testFile.getParent() != null ? testFile.getParent() : Path.of(".");
        Path key = directory.toAbsolutePath().normalize();
        List<Diagnostic> diagnostics = new ArrayList<>(parsed.diagnostics());
        OfflineEngine.CompiledSet set = setsByDirectory.get(key);
        if (set == null) {
            set = engine.compile(PolicySources.policySet(directory));
            setsByDirectory.put(key, set);
            diagnostics.addAll(set.diagnostics());
        }
        List<TestCase> cases = parsed.ast().cases();
        if (parsed.hasErrors() || !set.usable()) {
            // Nothing can be trusted: every case that parsed fails, and a file whose cases all
            // failed to parse still counts as one failure.
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
            List<TestFailure> caseFailures = runCase(set, testCase);
            if (caseFailures.isEmpty()) {
                passed++;
            } else {
                failed++;
                failures.addAll(caseFailures);
            }
        }
        return new TestReport(passed, failed, failures, diagnostics);
    }

    private List<TestFailure> runCase(OfflineEngine.CompiledSet set, TestCase testCase) {
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
            OfflineSession session = OfflineSession.of(query.session(), OfflineSession.DEFAULT_SEARCH_PATH, clock);
            ObservedDecision observed = set.decide(session, query.sql());
            for (Expectation expectation : query.expectations()) {
                String problem = check(expectation, observed);
                if (problem != null) {
                    failures.add(new TestFailure(expectation.span(), testCase.name(),
                            problem + " for " + abbreviate(query.sql())));
                }
            }
        }
        return failures;
    }

    /** Returns null when the expectation holds, otherwise what was expected and what happened. */
    static String check(Expectation expectation, ObservedDecision observed) {
        if (expectation instanceof Expectation.Allow) {
            return observed.allowed() ? null : "expected allow, got " + observed.describeEffect();
        }
        if (expectation instanceof Expectation.Deny) {
            Expectation.Deny deny = (Expectation.Deny) expectation;
            String wanted = deny.ruleIds().isEmpty() ? "deny"
                    : "deny by " + deny.ruleIds().stream().map(id -> "\"" + id + "\"").collect(Collectors.joining(", "));
            if (observed.allowed() || !observed.ruleIds().containsAll(deny.ruleIds())) {
                return "expected " + wanted + ", got " + observed.describeEffect();
            }
            return null;
        }
        if (expectation instanceof Expectation.Mask) {
            Expectation.Mask mask = (Expectation.Mask) expectation;
            String column = mask.column().patternText().toLowerCase(Locale.ROOT);
            String function = mask.function().text().toLowerCase(Locale.ROOT);
            String wanted = "mask " + column + " with " + function;
            AppliedMask applied = observed.maskOf(column);
            if (applied == null) {
                return "expected " + wanted + ", got no mask on " + column + " (" + observed.describeMasks() + ")";
            }
            if (!applied.function().equals(function)) {
                return "expected " + wanted + ", got mask " + column + " with " + applied;
            }
            if (mask.argumentsGiven()) {
                List<String> arguments = mask.arguments().stream().map(OfflineEngine::literalText).toList();
                if (!arguments.equals(applied.arguments())) {
                    return "expected " + wanted + "(" + String.join(", ", arguments) + "), got mask " + column
                            + " with " + applied;
                }
            }
            return null;
        }
        if (expectation instanceof Expectation.Warn) {
            String heuristic = ((Expectation.Warn) expectation).heuristic().text().toLowerCase(Locale.ROOT);
            return observed.warnings().contains(heuristic) ? null
                    : "expected warn " + heuristic + ", got " + observed.describeWarnings();
        }
        throw new AssertionError("unknown expectation " + expectation);
    }

    private static String abbreviate(String sql) {
        String oneLine = sql.strip().replaceAll("\\s+", " ");
        return "\"" + (oneLine.length() <= 72 ? oneLine : oneLine.substring(0, 69) + "...") + "\"";
    }
}
