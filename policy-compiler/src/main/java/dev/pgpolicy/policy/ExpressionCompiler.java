package dev.pgpolicy.policy;

import dev.pgpolicy.lang.CompareOp;
import dev.pgpolicy.lang.Diagnostic;
import dev.pgpolicy.lang.Expr;
import dev.pgpolicy.lang.Span;
import java.net.InetAddress;
import java.time.DayOfWeek;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Type-checks the session language and compiles it to {@link Condition} nodes. Every error is
 * reported at the offending operand; compilation continues so that one run shows them all.
 */
final class ExpressionCompiler {

    /** Resolves a role name to its compiled definition, reporting cycles; empty for unknown names. */
    interface Roles {
        Optional<Condition> resolve(String name, Span usedAt);

        boolean readsTime(String name);
    }

    static final Map<String, DayOfWeek> WEEKDAYS = Map.ofEntries(
            Map.entry("mon", DayOfWeek.MONDAY), Map.entry("tue", DayOfWeek.TUESDAY),
            Map.entry("wed", DayOfWeek.WEDNESDAY), Map.entry("thu", DayOfWeek.THURSDAY),
            Map.entry("fri", DayOfWeek.FRIDAY), Map.entry("sat", DayOfWeek.SATURDAY),
            Map.entry("sun", DayOfWeek.SUNDAY));

    private static final Condition INVALID = new Conditions.Constant(Tri.ERROR);

    /** A checked operand: its type, how to read it, and what it was (for messages and coercions). */
    private record Operand(ValueType type, ValueReader reader, Attribute attribute, Object constant, Span span) {
        boolean isConstant() {
            return attribute == null;
        }
    }

    private final List<Diagnostic> diagnostics;
    private final Roles roles;
    private boolean readsTime;

    ExpressionCompiler(List<Diagnostic> diagnostics, Roles roles) {
        this.diagnostics = diagnostics;
        this.roles = roles;
    }

    /** Whether anything compiled since the last call read hour, weekday or now; resets the flag. */
    boolean takeReadsTime() {
        boolean result = readsTime;
        readsTime = false;
        return result;
    }

    void markReadsTime(boolean value) {
        readsTime |= value;
    }

    Condition condition(Expr expr) {
        if (expr instanceof Expr.Or or) {
            List<Condition> operands = new ArrayList<>();
            for (Expr operand : or.operands()) {
                operands.add(condition(operand));
            }
            return new Conditions.AnyOf(List.copyOf(operands));
        }
        if (expr instanceof Expr.And and) {
            List<Condition> operands = new ArrayList<>();
            for (Expr operand : and.operands()) {
                operands.add(condition(operand));
            }
            return new Conditions.AllOf(List.copyOf(operands));
        }
        if (expr instanceof Expr.Not not) {
            return new Conditions.Negation(condition(not.operand()));
        }
        if (expr instanceof Expr.BoolLiteral bool) {
            return new Conditions.Constant(Tri.of(bool.value()));
        }
        if (expr instanceof Expr.Identifier identifier) {
            return bareIdentifier(identifier);
        }
        if (expr instanceof Expr.Comparison comparison) {
            return comparison(comparison);
        }
        if (expr instanceof Expr.InList in) {
            return inList(in);
        }
        if (expr instanceof Expr.In in) {
            return in(in);
        }
        if (expr instanceof Expr.Matches matches) {
            return matches(matches);
        }
        if (expr instanceof Expr.StartsWith startsWith) {
            Operand value = operand(startsWith.left());
            if (value == null || !expectType(value, ValueType.STRING, "starts_with")) {
                return INVALID;
            }
            return new Conditions.StartsWith(value.reader(), startsWith.prefix().value());
        }
        if (expr instanceof Expr.Between between) {
            return between(between);
        }
        if (expr instanceof Expr.StringLiteral || expr instanceof Expr.IntLiteral || expr instanceof Expr.IpLiteral) {
            error(expr.span(), "expected a condition, found a " + literalType(expr).label() + " literal");
            return INVALID;
        }
        throw new AssertionError("unhandled expression " + expr.getClass());
    }

    private Condition bareIdentifier(Expr.Identifier identifier) {
        String name = identifier.name();
        Optional<Attribute> attribute = Attribute.fromKeyword(name);
        if (attribute.isPresent()) {
            Attribute a = attribute.get();
            if (a.type() != ValueType.BOOL) {
                error(identifier.span(), "'" + name + "' is a " + a.type().label()
                        + ", not a condition; compare it with a value");
                return INVALID;
            }
            return new Conditions.BooleanValue(new ValueReader.Of(a));
        }
        Optional<Condition> role = roles.resolve(name, identifier.span());
        if (role.isPresent()) {
            readsTime |= roles.readsTime(name);
            return new Conditions.RoleMembership(name, role.get());
        }
        if (WEEKDAYS.containsKey(name)) {
            error(identifier.span(), "weekday '" + name + "' is not a condition; write weekday == " + name);
            return INVALID;
        }
        unknownName(identifier);
        return INVALID;
    }

    private void unknownName(Expr.Identifier identifier) {
        List<String> known = new ArrayList<>();
        for (Attribute attribute : Attribute.values()) {
            known.add(attribute.keyword());
        }
        error(identifier.span(), "unknown attribute or role '" + identifier.name() + "'"
                + Suggestions.didYouMean(identifier.name(), known));
    }

    private Condition comparison(Expr.Comparison comparison) {
        Operand left = operand(comparison.left());
        Operand right = operand(comparison.right());
        if (left == null || right == null) {
            return INVALID;
        }
        right = coerce(right, left.type());
        left = coerce(left, right == null ? null : right.type());
        if (left == null || right == null) {
            return INVALID;
        }
        CompareOp op = comparison.op();
        if (left.type() != right.type()) {
            if (isAddressPair(left.type(), right.type())) {
                error(comparison.span(), "use 'in' to test an address against a CIDR block");
            } else {
                error(comparison.span(), "cannot compare " + left.type().label() + " with " + right.type().label());
            }
            return INVALID;
        }
        if (left.type() == ValueType.STRING_SET) {
            error(comparison.span(), "groups is a set of strings; test membership with \"name\" in groups");
            return INVALID;
        }
        if (left.type() == ValueType.CIDR) {
            error(comparison.span(), "cannot compare CIDR blocks; use 'in'");
            return INVALID;
        }
        if (!op.isEquality() && !left.type().ordered()) {
            error(comparison.span(), "operator " + op.symbol() + " needs numbers, weekdays or times, not "
                    + left.type().label());
            return INVALID;
        }
        if (!checkHour(left, right) | !checkHour(right, left)) {
            return INVALID;
        }
        return new Conditions.Compare(left.reader(), op, right.reader());
    }

    private static boolean isAddressPair(ValueType a, ValueType b) {
        return (a == ValueType.IP && b == ValueType.CIDR) || (a == ValueType.CIDR && b == ValueType.IP);
    }

    private Condition inList(Expr.InList in) {
        Operand left = operand(in.left());
        if (left == null) {
            return INVALID;
        }
        if (left.type() == ValueType.STRING_SET || left.type() == ValueType.CIDR) {
            error(in.left().span(), "the left side of 'in (...)' must be a single value, not a " + left.type().label());
            return INVALID;
        }
        List<Object> elements = new ArrayList<>();
        boolean ok = true;
        for (Expr element : in.values()) {
            Operand value = operand(element);
            if (value == null) {
                ok = false;
                continue;
            }
            if (!value.isConstant()) {
                error(element.span(), "list elements must be literals, not '" + value.attribute().keyword() + "'");
                ok = false;
                continue;
            }
            value = coerce(value, left.type());
            if (value == null) {
                ok = false;
                continue;
            }
            boolean fits = value.type() == left.type() || (left.type() == ValueType.IP && value.type() == ValueType.CIDR);
            if (!fits) {
                error(element.span(), "expected a " + left.type().label() + " in the list, found a " + value.type().label());
                ok = false;
                continue;
            }
            ok &= checkHour(left, value);
            elements.add(value.constant());
        }
        return ok ? new Conditions.InList(left.reader(), List.copyOf(elements), in.negated()) : INVALID;
    }

    private Condition in(Expr.In in) {
        Operand left = operand(in.left());
        Operand right = operand(in.right());
        if (left == null || right == null) {
            return INVALID;
        }
        if (right.type() == ValueType.STRING_SET) {
            if (!expectType(left, ValueType.STRING, "'in groups'")) {
                return INVALID;
            }
            return new Conditions.InGroups(left.reader(), in.negated());
        }
        if ((right.type() == ValueType.CIDR || right.type() == ValueType.IP) && right.isConstant()) {
            if (left.type() != ValueType.IP) {
                error(in.left().span(), "'in' a CIDR block needs an IP address on the left, found a " + left.type().label());
                return INVALID;
            }
            Cidr cidr = right.constant() instanceof Cidr c ? c
                    : new Cidr((InetAddress) right.constant(), ((InetAddress) right.constant()).getAddress().length * 8);
            return new Conditions.InCidr(left.reader(), cidr, in.negated());
        }
        error(in.right().span(), "'in' needs a list in parentheses, a CIDR block or groups on its right, found a "
                + right.type().label());
        return INVALID;
    }

    private Condition matches(Expr.Matches matches) {
        Operand value = operand(matches.left());
        if (value == null || !expectType(value, ValueType.STRING, "matches")) {
            return INVALID;
        }
        try {
            return new Conditions.Matches(value.reader(), Pattern.compile(matches.regex().value()));
        } catch (PatternSyntaxException e) {
            error(matches.regex().span(), "invalid regular expression: " + e.getDescription()
                    + (e.getIndex() >= 0 ? " near index " + e.getIndex() : ""));
            return INVALID;
        }
    }

    private Condition between(Expr.Between between) {
        Operand value = operand(between.value());
        Operand low = operand(between.low());
        Operand high = operand(between.high());
        if (value == null || low == null || high == null) {
            return INVALID;
        }
        if (!value.type().ordered()) {
            error(between.value().span(), "between needs a number, weekday or time, not a " + value.type().label());
            return INVALID;
        }
        low = coerce(low, value.type());
        high = coerce(high, value.type());
        if (low == null || high == null) {
            return INVALID;
        }
        boolean ok = true;
        for (Operand bound : List.of(low, high)) {
            if (bound.type() != value.type()) {
                error(bound.span(), "expected a " + value.type().label() + ", found a " + bound.type().label());
                ok = false;
            } else {
                ok &= checkHour(value, bound);
            }
        }
        if (!ok) {
            return INVALID;
        }
        boolean cyclic = value.attribute() == Attribute.HOUR || value.attribute() == Attribute.WEEKDAY;
        return new Conditions.Between(value.reader(), low.reader(), high.reader(), cyclic, between.negated());
    }

    private Operand operand(Expr expr) {
        if (expr instanceof Expr.Identifier identifier) {
            Optional<Attribute> attribute = Attribute.fromKeyword(identifier.name());
            if (attribute.isPresent()) {
                readsTime |= attribute.get().readsTime();
                return new Operand(attribute.get().type(), new ValueReader.Of(attribute.get()), attribute.get(), null,
                        identifier.span());
            }
            DayOfWeek day = WEEKDAYS.get(identifier.name());
            if (day != null) {
                return constant(ValueType.WEEKDAY, day, identifier.span());
            }
            if (roles.resolve(identifier.name(), identifier.span()).isPresent()) {
                error(identifier.span(), "role '" + identifier.name() + "' is a condition, not a value");
                return null;
            }
            unknownName(identifier);
            return null;
        }
        if (expr instanceof Expr.StringLiteral string) {
            return constant(ValueType.STRING, string.value(), string.span());
        }
        if (expr instanceof Expr.IntLiteral integer) {
            if (integer.value() > Integer.MAX_VALUE) {
                error(integer.span(), "number " + integer.value() + " is too large");
                return null;
            }
            return constant(ValueType.INT, (int) integer.value(), integer.span());
        }
        if (expr instanceof Expr.BoolLiteral bool) {
            return constant(ValueType.BOOL, bool.value(), bool.span());
        }
        if (expr instanceof Expr.IpLiteral ip) {
            return ip.isCidr()
                    ? constant(ValueType.CIDR, new Cidr(ip.address(), ip.prefixLength()), ip.span())
                    : constant(ValueType.IP, ip.address(), ip.span());
        }
        error(expr.span(), "expected a value here, found a condition");
        return null;
    }

    private static Operand constant(ValueType type, Object value, Span span) {
        return new Operand(type, new ValueReader.Constant(value), null, value, span);
    }

    /** String literals stand for weekdays and times where those are expected. */
    private Operand coerce(Operand operand, ValueType wanted) {
        if (operand == null || wanted == null || !operand.isConstant() || operand.type() != ValueType.STRING) {
            return operand;
        }
        String text = (String) operand.constant();
        if (wanted == ValueType.WEEKDAY) {
            DayOfWeek day = WEEKDAYS.get(text.toLowerCase(Locale.ROOT));
            if (day == null) {
                error(operand.span(), "unknown weekday \"" + text + "\"; use mon, tue, wed, thu, fri, sat or sun");
                return null;
            }
            return constant(ValueType.WEEKDAY, day, operand.span());
        }
        if (wanted == ValueType.TIMESTAMP) {
            try {
                Instant instant = OffsetDateTime.parse(text).toInstant();
                return constant(ValueType.TIMESTAMP, instant, operand.span());
            } catch (DateTimeParseException e) {
                error(operand.span(), "\"" + text + "\" is not an ISO-8601 time with an offset, such as 2026-03-04T10:00:00Z");
                return null;
            }
        }
        return operand;
    }

    private boolean checkHour(Operand attribute, Operand value) {
        if (attribute.attribute() == Attribute.HOUR && value.constant() instanceof Integer hour && (hour < 0 || hour > 23)) {
            error(value.span(), "hour is 0 to 23; " + hour + " is out of range");
            return false;
        }
        return true;
    }

    private boolean expectType(Operand operand, ValueType type, String operator) {
        if (operand.type() != type) {
            error(operand.span(), operator + " needs a " + type.label() + " on the left, found a " + operand.type().label());
            return false;
        }
        return true;
    }

    private static ValueType literalType(Expr expr) {
        if (expr instanceof Expr.StringLiteral) {
            return ValueType.STRING;
        }
        if (expr instanceof Expr.IntLiteral) {
            return ValueType.INT;
        }
        return ValueType.IP;
    }

    private void error(Span at, String message) {
        diagnostics.add(Diagnostic.error(at, message));
    }
}
