package dev.pgpolicy.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpolicy.lang.Diagnostic;
import dev.pgpolicy.lang.ParsedTests;
import dev.pgpolicy.lang.PolicyParser;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Mutated policy and test text must only ever produce diagnostics: never an exception, never a
 * loaded set next to an error, never a diagnostic without a usable position. (The fuzz module
 * explores this at scale; this is the deterministic floor that runs with every build.)
 */
class FrontEndRobustnessTest {

    private static final String[] FRAGMENTS = {
        ";", ",", "(", ")", "{", "}", "\"", "\\", "/*", "*/", "#", "!", "@id(", "and", "or", "not", "in",
        "between", "10.0.0.0/8", "::1", "15m", "*", ".", "==", "any", "role", "allow", "deny", "mask",
        "limit", "guard", "audit", "mode detect;", "\n", "\u00e9", "\u0000", "999999999999999999999"};

    @Test
    void mutatedPoliciesOnlyYieldDiagnostics() {
        String example = Policies.resource("language-example.pgpolicy");
        Random random = new Random(20260304L);
        for (int i = 0; i < 400; i++) {
            String text = mutate(example, random, 1 + random.nextInt(6));
            CompileResult result = PolicyCompiler.compile(List.of(new SourceFile("m.pgpolicy", text)));
            assertThat(result.policySet().isPresent()).as(text).isEqualTo(!result.hasErrors());
            for (Diagnostic diagnostic : result.diagnostics()) {
                assertThat(diagnostic.file()).isEqualTo("m.pgpolicy");
                assertThat(diagnostic.line()).isPositive();
                assertThat(diagnostic.column()).isPositive();
                assertThat(diagnostic.message()).isNotBlank().doesNotContain("internal");
            }
        }
    }

    @Test
    void mutatedTestFilesOnlyYieldDiagnostics() {
        String example = """
                test "analyst sees masked email, never ssn filters" {
                  as user "ana" groups ("bi_readers") from 10.1.2.3 app "metabase" at "2026-03-04T10:00:00Z";
                  query "SELECT email FROM payments.customers WHERE id = 1";
                  expect allow;
                  expect mask payments.customers.email with email;
                  query "SELECT id FROM payments.customers WHERE ssn LIKE '1%'";
                  expect deny by "no-ssn-filter";
                  expect warn tautology;
                }
                """;
        Random random = new Random(77L);
        for (int i = 0; i < 400; i++) {
            String text = mutate(example, random, 1 + random.nextInt(6));
            ParsedTests parsed = PolicyParser.parseTests("m.pgtest", text);
            for (Diagnostic diagnostic : parsed.diagnostics()) {
                assertThat(diagnostic.line()).isPositive();
                assertThat(diagnostic.column()).isPositive();
                assertThat(diagnostic.message()).doesNotContain("internal");
            }
            assertThat(parsed.ast().fileName()).isEqualTo("m.pgtest");
        }
    }

    @Test
    void randomBytesOnlyYieldDiagnostics() {
        Random random = new Random(5L);
        for (int i = 0; i < 200; i++) {
            StringBuilder text = new StringBuilder();
            int length = random.nextInt(300);
            for (int k = 0; k < length; k++) {
                text.append(random.nextBoolean() ? FRAGMENTS[random.nextInt(FRAGMENTS.length)] + " "
                        : String.valueOf((char) random.nextInt(0x3000)));
            }
            CompileResult result = PolicyCompiler.compile(List.of(new SourceFile("r.pgpolicy", text.toString())));
            assertThat(result.policySet().isPresent()).isEqualTo(!result.hasErrors());
            assertThat(result.diagnostics()).noneMatch(d -> d.message().contains("internal"));
        }
    }

    private static String mutate(String text, Random random, int edits) {
        StringBuilder mutated = new StringBuilder(text);
        for (int e = 0; e < edits; e++) {
            int at = random.nextInt(mutated.length() + 1);
            switch (random.nextInt(4)) {
                case 0 -> mutated.insert(at, FRAGMENTS[random.nextInt(FRAGMENTS.length)]);
                case 1 -> mutated.delete(at, Math.min(mutated.length(), at + 1 + random.nextInt(8)));
                case 2 -> {
                    if (at < mutated.length()) {
                        mutated.setCharAt(at, (char) (32 + random.nextInt(95)));
                    }
                }
                default -> mutated.setLength(Math.max(0, mutated.length() - random.nextInt(20)));
            }
        }
        return mutated.toString();
    }
}
