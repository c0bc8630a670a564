package dev.pgpolicy.fuzz.policy;

import dev.pgpolicy.fuzz.policy.ExampleCorpus.Source;
import dev.pgpolicy.fuzz.policy.PolicyModel.SessionModel;
import dev.pgpolicy.fuzz.policy.ReferenceEvaluator.Outcome;
import dev.pgpolicy.lang.Diagnostic;
import dev.pgpolicy.policy.CompileResult;
import dev.pgpolicy.policy.Decision;
import dev.pgpolicy.policy.GuardAction;
import dev.pgpolicy.policy.GuardFinding;
import dev.pgpolicy.policy.PolicyCompiler;
import dev.pgpolicy.policy.PolicySet;
import dev.pgpolicy.policy.SearchPathResolver;
import dev.pgpolicy.policy.SessionContext;
import dev.pgpolicy.policy.SourceFile;
import dev.pgpolicy.sql.QueryAnalysis;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/** The real front end, compiler and decision tree, seen through the fuzz module's small types. */
final class Compilation {

    private static final SearchPathResolver DEFAULT_PATH = SearchPathResolver.defaultPath();
    /** A Wednesday; the hour is set per session. */
    private static final Instant DAY = Instant.parse("2026-03-04T00:00:00Z");

    record Result(Optional<PolicySet> policySet, List<Diagnostic> diagnostics) {
        boolean compiled() {
            return policySet.isPresent();
        }

        Outcome evaluate(SessionModel session, QueryAnalysis analysis) {
            PolicySet set = policySet.orElseThrow();
            Decision decision = set.evaluate(context(session), analysis, DEFAULT_PATH);
            Set<String> warnings = new TreeSet<>();
            for (GuardFinding finding : decision.findings()) {
                if (finding.action() == GuardAction.WARN) {
                    warnings.add(finding.heuristic().keyword());
                }
            }
            Map<String, String> masks = new TreeMap<>();
            decision.masks().forEach((column, mask) -> masks.put(column, mask.toString()));
            return new Outcome(decision.allowed(), new TreeSet<>(decision.ruleIds()), warnings, masks);
        }
    }

    private Compilation() {
    }

    /** Compiles the sources; whatever the input, this must return rather than throw. */
    static Result compile(List<Source> sources) {
        List<SourceFile> files = sources.stream().map(s -> new SourceFile(s.name(), s.text())).toList();
        CompileResult result = PolicyCompiler.compile(files);
        return new Result(result.policySet(), result.diagnostics());
    }

    static SessionContext context(SessionModel session) {
        return new SessionContext(session.user(), session.groups(), session.user(), "app", "", address(session.ipv4()),
                "scram", session.tls(), null, DAY.plusSeconds(session.hour() * 3600L + 1800), ZoneOffset.UTC);
    }

    private static InetAddress address(Integer ipv4) {
        if (ipv4 == null) {
            return null;
        }
        int value = ipv4;
        byte[] bytes = {(byte) (value >>> 24), (byte) (value >>> 16), (byte) (value >>> 8), (byte) value};
        try {
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new AssertionError("four bytes are always an address", e);
        }
    }
}
