package dev.pgpolicy.policies;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpolicy.lang.Diagnostic;
import dev.pgpolicy.policy.AuditLevel;
import dev.pgpolicy.policy.CompileResult;
import dev.pgpolicy.policy.MaskFunction;
import dev.pgpolicy.policy.PolicyCompiler;
import dev.pgpolicy.policy.SourceFile;
import dev.pgpolicy.sql.Action;
import dev.pgpolicy.sql.Heuristic;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Keeps docs/language.md true: every {@code ```pgpolicy} block in it compiles without errors on
 * its own, the reference's complete example is the one in {@code policies/language-example}, and
 * every action, heuristic, mask function and audit level the compiler knows is documented.
 */
class DocumentationExamplesTest {

    private static final Path REFERENCE = Path.of("..", "docs", "language.md");
    private static final Pattern POLICY_BLOCK = Pattern.compile("```pgpolicy\\n(.*?)```", Pattern.DOTALL);

    private record Block(int line, String text) {
    }

    @Test
    void everyPolicyExampleInTheReferenceCompiles() throws IOException {
        List<Block> blocks = policyBlocks();
        assertThat(blocks).as("pgpolicy examples in %s", REFERENCE).hasSizeGreaterThanOrEqualTo(10);
        for (Block block : blocks) {
            String name = "language.md:" + block.line();
            CompileResult result = PolicyCompiler.compile(List.of(new SourceFile(name, block.text())));
            assertThat(result.diagnostics().stream().filter(Diagnostic::isError).map(Diagnostic::toString).toList())
                    .as("example at docs/language.md line %d:%n%s", block.line(), block.text())
                    .isEmpty();
            assertThat(result.policySet()).isPresent();
        }
    }

    @Test
    void theCompleteExampleIsTheLanguageExampleSet() throws IOException {
        List<Block> blocks = policyBlocks();
        String complete = blocks.get(blocks.size() - 1).text();
        String example = Files.readString(Path.of("language-example", "policy.pgpolicy"));
        assertThat(complete.strip()).isEqualTo(example.strip());
    }

    @Test
    void everyKeywordOfTheLanguageIsDocumented() throws IOException {
        String reference = Files.readString(REFERENCE);
        List<String> keywords = new ArrayList<>();
        for (Action action : Action.values()) {
            keywords.add(action.keyword());
        }
        for (Heuristic heuristic : Heuristic.values()) {
            keywords.add(heuristic.keyword());
        }
        for (MaskFunction mask : MaskFunction.values()) {
            keywords.add(mask.keyword() + "(");
        }
        for (AuditLevel level : AuditLevel.values()) {
            keywords.add(level.keyword());
        }
        for (String keyword : keywords) {
            assertThat(reference).as("docs/language.md documents %s", keyword).contains("`" + keyword);
        }
        for (String statement : List.of("role", "allow", "deny", "mask", "limit", "guard", "audit", "mode detect",
                "@id(", "@reason(", "@mode(detect)", "expect allow", "expect deny", "expect mask", "expect warn",
                "pgpolicy check", "pgpolicy test", "pgpolicy explain")) {
            assertThat(reference).as("docs/language.md documents %s", statement).contains(statement);
        }
    }

    private static List<Block> policyBlocks() throws IOException {
        String text = Files.readString(REFERENCE);
        List<Block> blocks = new ArrayList<>();
        Matcher matcher = POLICY_BLOCK.matcher(text);
        while (matcher.find()) {
            int line = 1 + (int) text.substring(0, matcher.start()).chars().filter(c -> c == '\n').count();
            blocks.add(new Block(line, matcher.group(1)));
        }
        return blocks;
    }
}
