package dev.pgpolicy.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpolicy.lang.Diagnostic;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Test helpers: compile policy text. */
final class Policies {

    private Policies() {
    }

    static String resource(String name) {
        try (InputStream in = Policies.class.getResourceAsStream(name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    static PolicySet compile(String text) {
        CompileResult result = PolicyCompiler.compile(List.of(new SourceFile("p.pgpolicy", text)));
        assertThat(result.diagnostics()).extracting(Diagnostic::toString).isEmpty();
        return result.policySet().orElseThrow();
    }

    static List<String> diagnostics(String text) {
        CompileResult result = PolicyCompiler.compile(List.of(new SourceFile("p.pgpolicy", text)));
        if (result.hasErrors()) {
            assertThat(result.policySet()).isEmpty();
        }
        return result.diagnostics().stream().map(Diagnostic::toString).toList();
    }
}
