package dev.pgpolicy.policy;

import dev.pgpolicy.lang.Diagnostic;
import dev.pgpolicy.lang.Expectation;
import dev.pgpolicy.lang.Expr;
import dev.pgpolicy.lang.PatternPart;
import dev.pgpolicy.lang.SessionSpec;
import dev.pgpolicy.lang.Span;
import dev.pgpolicy.lang.TestCase;
import dev.pgpolicy.lang.TestFile;
import dev.pgpolicy.lang.TestQuery;
import dev.pgpolicy.sql.Heuristic;
import java.net.InetAddress;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The semantics of {@code .pgtest} files (LANGUAGE.md, "Tests"), for the {@code test} command
 * and for reload: the session a case runs as, checks of the names its expectations use, and the
 * comparison of one query's expectations with its decision.
 */
public final class PolicyTests {

    /** One unmet expectation, printed {@code file:line:col: message}. */
    public record Failure(Span at, String message) {
        @Override
        public String toString() {
            return at + ": " + message;
        }
    }

    private PolicyTests() {
    }

    /**
     * The session of a test query. Attributes the {@code as} clause leaves out are empty; the
     * address defaults to 127.0.0.1 and the time to {@code now}.
     */
    public static SessionContext session(SessionSpec spec, Instant now, ZoneId zone) {
        Objects.requireNonNull(now, "now");
        return new SessionContext(
                spec.user(),
                Set.copyOf(spec.groups()),
                spec.dbUser(),
                spec.database(),
                spec.applicationName(),
                spec.clientIp() != null ? spec.clientIp() : InetAddress.getLoopbackAddress(),
                spec.auth(),
                spec.tls() != null && spec.tls(),
                spec.certCn(),
                spec.time() != null ? spec.time() : now,
                zone);
    }

    /** Errors for expectations that name no heuristic or mask function, so a typo cannot pass silently. */
    public static List<Diagnostic> check(TestFile file) {
        List<Diagnostic> diagnostics = new ArrayList<>();
        for (TestCase testCase : file.cases()) {
            for (TestQuery query : testCase.queries()) {
                for (Expectation expectation : query.expectations()) {
                    if (expectation instanceof Expectation.Warn warn
                            && Heuristic.fromKeyword(warn.heuristic().text()).isEmpty()) {
                        diagnostics.add(Diagnostic.error(warn.heuristic().span(), "unknown heuristic '"
                                + warn.heuristic().text() + "'" + Suggestions.didYouMean(warn.heuristic().text(),
                                Arrays.stream(Heuristic.values()).map(Heuristic::keyword).toList())));
                    } else if (expectation instanceof Expectation.Mask mask) {
                        if (MaskFunction.fromKeyword(mask.function().text()).isEmpty()) {
                            diagnostics.add(Diagnostic.error(mask.function().span(), "unknown mask function '"
                                    + mask.function().text() + "'"));
                        }
                        int parts = mask.column().parts().size();
                        if (parts < 2 || parts > 3) {
                            diagnostics.add(Diagnostic.error(mask.column().span(),
                                    "a masked column is TABLE.COLUMN or SCHEMA.TABLE.COLUMN"));
                        }
                    }
                }
            }
        }
        return diagnostics;
    }

    /** The expectations of {@code query} that {@code decision} does not meet; empty when the query passes. */
    public static List<Failure> failures(TestQuery query, Decision decision) {
        List<Failure> failures = new ArrayList<>();
        for (Expectation expectation : query.expectations()) {
            check(expectation, decision).ifPresent(message -> failures.add(new Failure(expectation.span(), message)));
        }
        return failures;
    }

    private static Optional<String> check(Expectation expectation, Decision decision) {
        if (expectation instanceof Expectation.Allow) {
            return decision.allowed() ? Optional.empty()
                    : Optional.of("expected allow, got " + describe(decision));
        }
        if (expectation instanceof Expectation.Deny deny) {
            if (decision.allowed()) {
                return Optional.of("expected deny" + by(deny.ruleIds()) + ", got allow");
            }
            List<String> missing = deny.ruleIds().stream().filter(id -> !decision.ruleIds().contains(id)).toList();
            return missing.isEmpty() ? Optional.empty()
                    : Optional.of("expected deny" + by(deny.ruleIds()) + ", got " + describe(decision));
        }
        if (expectation instanceof Expectation.Mask mask) {
            return checkMask(mask, decision);
        }
        if (expectation instanceof Expectation.Warn warn) {
            boolean warned = decision.findings().stream().anyMatch(f ->
                    f.heuristic().keyword().equals(warn.heuristic().text()) && f.action() == GuardAction.WARN);
            return warned ? Optional.empty()
                    : Optional.of("expected warn " + warn.heuristic().text() + ", got findings " + findings(decision));
        }
        throw new AssertionError("unhandled expectation " + expectation.getClass());
    }

    private static Optional<String> checkMask(Expectation.Mask mask, Decision decision) {
        List<PatternPart> parts = mask.column().parts();
        String column = mask.column().patternText();
        Optional<MaskSpec> actual;
        if (parts.size() == 3) {
            actual = Optional.ofNullable(decision.masks().get(column))
                    .or(() -> decision.maskSet().maskFor(parts.get(0).text(), parts.get(1).text(), parts.get(2).text()));
        } else if (parts.size() == 2) {
            actual = decision.masks().entrySet().stream()
                    .filter(e -> e.getKey().endsWith("." + column)).map(Map.Entry::getValue).findFirst()
                    .or(() -> decision.maskSet().maskFor(ResolvedName.unknown(parts.get(0).text()), parts.get(1).text())
                            .map(MaskBinding::mask));
        } else {
            return Optional.of("a masked column is TABLE.COLUMN or SCHEMA.TABLE.COLUMN, not " + column);
        }
        String expected = mask.function().text() + (mask.argumentsGiven() ? "(" + arguments(mask.arguments()) + ")" : "");
        if (actual.isEmpty()) {
            return Optional.of("expected mask " + column + " with " + expected + ", got no mask");
        }
        MaskSpec spec = actual.get();
        boolean sameFunction = spec.function().keyword().equals(mask.function().text());
        boolean sameArguments = !mask.argumentsGiven() || spec.arguments().equals(argumentValues(mask.arguments()));
        return sameFunction && sameArguments ? Optional.empty()
                : Optional.of("expected mask " + column + " with " + expected + ", got " + spec);
    }

    private static List<Object> argumentValues(List<Expr> arguments) {
        List<Object> values = new ArrayList<>();
        for (Expr argument : arguments) {
            if (argument instanceof Expr.StringLiteral string) {
                values.add(string.value());
            } else if (argument instanceof Expr.IntLiteral integer) {
                values.add(integer.value());
            } else {
                values.add(argument.toString());
            }
        }
        return values;
    }

    private static String arguments(List<Expr> arguments) {
        return new MaskSpec(MaskFunction.NULL, argumentValues(arguments)).toString().replaceFirst("^null\\(", "")
                .replaceFirst("\\)$", "");
    }

    private static String by(List<String> ids) {
        return ids.isEmpty() ? "" : " by " + String.join(", ", ids.stream().map(id -> '"' + id + '"').toList());
    }

    private static String describe(Decision decision) {
        if (decision.allowed()) {
            return "allow";
        }
        String rules = decision.ruleIds().isEmpty() ? "" : " by " + String.join(", ", decision.ruleIds());
        return "deny" + rules + " (" + decision.reason() + ")";
    }

    private static String findings(Decision decision) {
        return decision.findings().stream().map(f -> f.heuristic().keyword() + "=" + f.action().keyword()).toList().toString();
    }
}
