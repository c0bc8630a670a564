package dev.pgpolicy.fuzz.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpolicy.fuzz.policy.ExampleCorpus.Source;
import dev.pgpolicy.lang.Diagnostic;
import dev.pgpolicy.lang.ParsedTests;
import dev.pgpolicy.lang.PolicyParser;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;

/**
 * Hostile or broken policy text never makes the front end or the compiler throw: the result is
 * always either a policy set or diagnostics, and every diagnostic points into the file it names.
 */
class PolicyTextProperties {

    private static final List<Source> POLICIES = ExampleCorpus.policyFiles();
    private static final List<Source> TESTS = ExampleCorpus.testFiles();

    @Provide
    Arbitrary<Source> examplePolicy() {
        return Arbitraries.of(POLICIES);
    }

    @Provide
    Arbitrary<Source> exampleTest() {
        return Arbitraries.of(TESTS);
    }

    @Provide
    Arbitrary<List<Mutations.Mutation>> mutationLists() {
        return Mutations.mutations().list().ofMinSize(1).ofMaxSize(4);
    }

    @Property(tries = 400)
    void mutatedExamplesCompileOrReportPositions(
            @ForAll("examplePolicy") Source seed,
            @ForAll("mutationLists") List<Mutations.Mutation> mutations) {
        String text = seed.text();
        for (Mutations.Mutation mutation : mutations) {
            text = mutation.apply(text);
        }
        List<Source> set = new ArrayList<>();
        for (Source other : POLICIES) {
            // The rest of the seed's directory stays intact, so cross-file checks (unknown role,
            // duplicate id) run against real neighbours.
            if (other.name().startsWith(directoryOf(seed.name())) && !other.name().equals(seed.name())) {
                set.add(other);
            }
        }
        set.add(new Source(seed.name(), text));
        Compilation.Result result = Compilation.compile(set);
        assertOutcome(result, set);
    }

    @Property(tries = 300)
    void randomTextCompilesOrReportsPositions(@ForAll @Size(max = 300) String text) {
        List<Source> set = List.of(new Source("random.pgpolicy", text));
        assertOutcome(Compilation.compile(set), set);
    }

    @Property(tries = 300)
    void randomTokenSoupCompilesOrReportsPositions(@ForAll("tokenSoup") String text) {
        List<Source> set = List.of(new Source("soup.pgpolicy", text));
        assertOutcome(Compilation.compile(set), set);
    }

    @Provide
    Arbitrary<String> tokenSoup() {
        return Arbitraries.of("allow", "deny", "mask", "any", "x", "!x", "select", "read", "on", "table",
                        "a.b", "a.*", "when", "unless", "(", ")", "user", "==", "\"s\"", "and", "or", "not",
                        ";", ",", "role", "=", "limit", "{", "}", "rows", "10", "per", "query", "guard",
                        "tautology", "audit", "full", "with", "email()", "partial(1, \"x\", 2)", "@id(\"i\")",
                        "in", "10.0.0.0/8", "groups", "between", "1", "and", "2", "mode", "detect", "column",
                        "a.b.c", "function", "f*", "hour", "weekday", "matches", "\"[\"")
                .list().ofMaxSize(60)
                .map(tokens -> String.join(" ", tokens));
    }

    @Property(tries = 300)
    void mutatedTestFilesParseOrReportPositions(
            @ForAll("exampleTest") Source seed,
            @ForAll("mutationLists") List<Mutations.Mutation> mutations) {
        String text = seed.text();
        for (Mutations.Mutation mutation : mutations) {
            text = mutation.apply(text);
        }
        ParsedTests parsed = PolicyParser.parseTests(seed.name(), text);
        assertThat(parsed.ast()).isNotNull();
        for (Diagnostic diagnostic : parsed.diagnostics()) {
            assertValidPosition(diagnostic, List.of(new Source(seed.name(), text)));
        }
    }

    private static void assertOutcome(Compilation.Result result, List<Source> set) {
        boolean hasErrors = result.diagnostics().stream().anyMatch(Diagnostic::isError);
        assertThat(hasErrors || result.compiled())
                .as("either a policy set or an error diagnostic, got %s", result.diagnostics())
                .isTrue();
        assertThat(hasErrors && result.compiled())
                .as("a set with errors must not load")
                .isFalse();
        for (Diagnostic diagnostic : result.diagnostics()) {
            assertValidPosition(diagnostic, set);
        }
    }

    private static void assertValidPosition(Diagnostic diagnostic, List<Source> set) {
        Source file = set.stream().filter(s -> s.name().equals(diagnostic.file())).findFirst()
                .orElseThrow(() -> new AssertionError("diagnostic names a file not in the set: " + diagnostic));
        String[] lines = file.text().split("\n", -1);
        assertThat(diagnostic.line()).as("line of %s", diagnostic).isBetween(1, lines.length);
        // Column 1 past the last character is where "unexpected end of input" points.
        assertThat(diagnostic.column()).as("column of %s", diagnostic)
                .isBetween(1, lines[diagnostic.line() - 1].length() + 1);
        assertThat(diagnostic.message()).as("message of %s", diagnostic).isNotBlank();
    }

    private static String directoryOf(String name) {
        int slash = name.lastIndexOf('/');
        return slash < 0 ? "" : name.substring(0, slash + 1);
    }
}
