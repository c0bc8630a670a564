package dev.pgpolicy.policy.testing;

import dev.pgpolicy.lang.Diagnostic;
import dev.pgpolicy.lang.Expectation;
import dev.pgpolicy.lang.Expr;
import dev.pgpolicy.lang.PatternPart;
import dev.pgpolicy.lang.SessionSpec;
import dev.pgpolicy.lang.Span;
import dev.pgpolicy.lang.TestCase;
import dev.pgpolicy.lang.TestFile;
import dev.pgpolicy.lang.TestQuery;
import dev.pgpolicy.policy.Decision;
import dev.pgpolicy.policy.GuardAction;
import dev.pgpolicy.policy.GuardFinding;
import dev.pgpolicy.policy.MaskBinding;
import dev.pgpolicy.policy.MaskFunction;
import dev.pgpolicy.policy.MaskSpec;
import dev.pgpolicy.policy.ResolvedName;
import dev.pgpolicy.policy.SessionContext;
import dev.pgpolicy.sql.Heuristic;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The semantics of {@code .pgtest} files (LANGUAGE.md, "Tests"): the session a case runs as, the
 * checks of the names its expectations use, and the comparison of one query's expectations with
 * its decision. {@code pgpolicy test}, {@code explain} and reload all go through here.
 */
public final class Expectations {

    /** One unmet expectation, printed {@code file:line:col: message}. */
    public record Failure(Span at, String message) {
        @Override
        public String toString() {
            return at + ": " + message;
        }
    }

    private static final InetAddress DEFAULT_CLIENT = loopbackV4();

    private Expectations() {
    }

    /**
     * The session of a test query (or of {@code explain --as}). Attributes the {@code as} clause
     * leaves out are empty: no groups, no application name, no TLS; the client address defaults
     * to 127.0.0.1 and the time to {@code now}.
     */
    public static SessionContext session(SessionSpec spec, Instant now, ZoneId zone) {
        Objects.requireNonNull(now, "now");
        return new SessionContext(
                spec.user(),
                Set.copyOf(spec.groups()),
                spec.dbUser(),
                spec.database(),
                spec.applicationName(),
                spec.clientIp() != null ? spec.clientIp() : DEFAULT_CLIENT,
                spec.auth(),
                spec.tls() != null && spec.tls(),
                spec.certCn(),
                spec.time() != null ? spec.time() : now,
                zone);
    }

    /** Errors for expectations naming no known heuristic or mask function, so a typo cannot pass silently. */
    public static List<Diagnostic> check(TestFile file) {
        List<Diagnostic> diagnostics = new ArrayList<>();
        for (TestCase testCase : file.cases()) {
            for (TestQuery query : testCase.queries()) {
                for (Expectation expectation : query.expectations()) {
                    if (expectation instanceof Expectation.Warn) {
                        Expectation.Warn warn = (Expectation.Warn) expectation;
                        if (Heuristic.fromKeyword(warn.heuristic().text()).isEmpty()) {
                            diagnostics.add(Diagnostic.error(warn.heuristic().span(), "unknown heuristic '"
                                    + warn.heuristic().text() + "'; expected one of " + Arrays.stream(Heuristic.values())
                                    .map(Heuristic::keyword).collect(Collectors.joining(", "))));
                        }
                    } else if (expectation instanceof Expectation.Mask) {
                        Expectation.Mask mask = (Expectation.Mask) expectation;
                        if (MaskFunction.fromKeyword(mask.function().text()).isEmpty()) {
                            diagnostics.add(Diagnostic.error(mask.function().span(), "unknown mask function '"
                                    + mask.function().text() + "'; expected one of " + Arrays.stream(MaskFunction.values())
                                    .map(MaskFunction::keyword).collect(Collectors.joining(", "))));
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
            return decision.allowed() ? Optional.empty() : Optional.of("expected allow, got " + describe(decision));
        }
        if (expectation instanceof Expectation.Deny) {
            Expectation.Deny deny = (Expectation.Deny) expectation;
            // "deny by" lists ids that must all be among the decision's; others may decide too.
            if (decision.allowed() || !decision.ruleIds().containsAll(deny.ruleIds())) {
                return Optional.of("expected deny" + by(deny.ruleIds()) + ", got " + describe(decision));
            }
            return Optional.empty();
        }
        if (expectation instanceof Expectation.Mask) {
            return checkMask((Expectation.Mask) expectation, decision);
        }
        if (expectation instanceof Expectation.Warn) {
            String heuristic = ((Expectation.Warn) expectation).heuristic().text();
            for (GuardFinding finding : decision.findings()) {
                if (finding.heuristic().keyword().equals(heuristic) && finding.action() == GuardAction.WARN) {
                    return Optional.empty();
                }
            }
            return Optional.of("expected warn " + heuristic + ", got findings " + findings(decision));
        }
        throw new AssertionError("unhandled expectation " + expectation.getClass());
    }

    /**
     * The mask of a column the statement names comes from the decision; any other column of the
     * principal's masked tables is answered by its mask set, because {@code SELECT *} or a view
     * reveals such columns through RowDescription and the proxy masks them there.
     */
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
        String wanted = mask.function().text() + (mask.argumentsGiven() ? "(" + arguments(mask.arguments()) + ")" : "");
        if (actual.isEmpty()) {
            return Optional.of("expected mask " + column + " with " + wanted + ", got no mask");
        }
        MaskSpec spec = actual.get();
        boolean sameFunction = spec.function().keyword().equals(mask.function().text());
        boolean sameArguments = !mask.argumentsGiven() || spec.arguments().equals(argumentValues(mask.arguments()));
        return sameFunction && sameArguments ? Optional.empty()
                : Optional.of("expected mask " + column + " with " + wanted + ", got " + spec);
    }

    /** Literal arguments as {@link MaskSpec} holds them: strings and longs. */
    private static List<Object> argumentValues(List<Expr> arguments) {
        List<Object> values = new ArrayList<>();
        for (Expr argument : arguments) {
            if (argument instanceof Expr.StringLiteral) {
                values.add(((Expr.StringLiteral) argument).value());
            } else if (argument instanceof Expr.IntLiteral) {
                values.add(((Expr.IntLiteral) argument).value());
            } else {
                values.add(argument.toString());
            }
        }
        return values;
    }

    private static String arguments(List<Expr> arguments) {
        String rendered = new MaskSpec(MaskFunction.NULL, argumentValues(arguments)).toString();
        // MaskSpec renders "null(args)"; keep what is between the parentheses.
        return rendered.substring(rendered.indexOf('(') + 1, rendered.length() - 1);
    }

    private static String by(List<String> ids) {
        return ids.isEmpty() ? "" : " by " + ids.stream().map(id -> '"' + id + '"').collect(Collectors.joining(", "));
    }

    private static String describe(Decision decision) {
        if (decision.allowed()) {
            return "allow";
        }
        String rules = decision.ruleIds().isEmpty() ? "" : " by " + String.join(", ", decision.ruleIds());
        return "deny" + rules + " (" + decision.reason() + ")";
    }

    private static String findings(Decision decision) {
        return decision.findings().stream()
                .map(f -> f.heuristic().keyword() + "=" + f.action().keyword())
                .collect(Collectors.toList())
                .toString();
    }

    private static InetAddress loopbackV4() {
        try {
            return InetAddress.getByAddress(new byte[] {127, 0, 0, 1});
        } catch (UnknownHostException e) {
            throw new AssertionError("a four-byte address is always valid", e);
        }
    }
}
