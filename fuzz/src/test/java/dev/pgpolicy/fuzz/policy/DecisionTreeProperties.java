package dev.pgpolicy.fuzz.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpolicy.fuzz.policy.ExampleCorpus.Source;
import dev.pgpolicy.fuzz.policy.PolicyModel.Policy;
import dev.pgpolicy.fuzz.policy.PolicyModel.SessionModel;
import dev.pgpolicy.fuzz.policy.ReferenceEvaluator.Outcome;
import dev.pgpolicy.sql.QueryAnalysis;
import java.util.List;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;

/**
 * For random policies, sessions and statement facts, the compiled decision tree decides exactly
 * what the plain reference evaluator over the same policy decides: the same effect, the same
 * determining rule ids, the same warnings and the same column masks.
 */
class DecisionTreeProperties {

    @Provide
    Arbitrary<Policy> policy() {
        return PolicyGenerators.policies();
    }

    @Provide
    Arbitrary<List<SessionModel>> sessions() {
        return PolicyGenerators.sessions().list().ofMinSize(1).ofMaxSize(6);
    }

    @Provide
    Arbitrary<List<QueryAnalysis>> analyses() {
        return PolicyGenerators.analyses().list().ofMinSize(1).ofMaxSize(6);
    }

    @Property(tries = 400)
    void compiledTreeAgreesWithReference(
            @ForAll("policy") Policy policy,
            @ForAll("sessions") List<SessionModel> sessions,
            @ForAll("analyses") List<QueryAnalysis> analyses) {
        String text = policy.render();
        Compilation.Result compiled = Compilation.compile(List.of(new Source("generated.pgpolicy", text)));
        assertThat(compiled.compiled())
                .as("generated policy must compile:%n%s%n%s", text, compiled.diagnostics())
                .isTrue();
        for (SessionModel session : sessions) {
            for (QueryAnalysis analysis : analyses) {
                Outcome expected = ReferenceEvaluator.evaluate(policy, session, analysis);
                Outcome actual = compiled.evaluate(session, analysis);
                Statistics.label("effect").collect(expected.allowed() ? "allow" : "deny");
                Statistics.label("masks").collect(expected.masks().isEmpty() ? "no mask" : "masked");
                assertThat(actual)
                        .as("policy:%n%s%nsession: %s%nfacts: %s", text, session, analysis)
                        .isEqualTo(expected);
            }
        }
    }
}
