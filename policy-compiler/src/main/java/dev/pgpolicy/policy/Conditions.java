package dev.pgpolicy.policy;

import dev.pgpolicy.lang.CompareOp;
import java.net.InetAddress;
import java.util.List;
import java.util.regex.Pattern;

/** The condition nodes. Each is an immutable record; operand types were checked by the compiler. */
final class Conditions {

    private Conditions() {
    }

    record Constant(Tri value) implements Condition {
        static final Constant TRUE = new Constant(Tri.TRUE);

        @Override
        public Tri evaluate(SessionContext session) {
            return value;
        }
    }

    /** True if all are true; false if any is false (even next to an error); otherwise error. */
    record AllOf(List<Condition> operands) implements Condition {
        @Override
        public Tri evaluate(SessionContext session) {
            Tri result = Tri.TRUE;
            for (Condition operand : operands) {
                Tri value = operand.evaluate(session);
                if (value == Tri.FALSE) {
                    return Tri.FALSE;
                }
                if (value == Tri.ERROR) {
                    result = Tri.ERROR;
                }
            }
            return result;
        }
    }

    /** True if any is true (even next to an error); false if all are false; otherwise error. */
    record AnyOf(List<Condition> operands) implements Condition {
        @Override
        public Tri evaluate(SessionContext session) {
            Tri result = Tri.FALSE;
            for (Condition operand : operands) {
                Tri value = operand.evaluate(session);
                if (value == Tri.TRUE) {
                    return Tri.TRUE;
                }
                if (value == Tri.ERROR) {
                    result = Tri.ERROR;
                }
            }
            return result;
        }
    }

    record Negation(Condition operand) implements Condition {
        @Override
        public Tri evaluate(SessionContext session) {
            return operand.evaluate(session).not();
        }
    }

    /** A named role; kept as a node so that diagnostics and traces can name it. */
    record RoleMembership(String role, Condition definition) implements Condition {
        @Override
        public Tri evaluate(SessionContext session) {
            return definition.evaluate(session);
        }
    }

    record BooleanValue(ValueReader value) implements Condition {
        @Override
        public Tri evaluate(SessionContext session) {
            return value.read(session) instanceof Boolean b ? Tri.of(b) : Tri.ERROR;
        }
    }

    /** {@code == != < <= > >=} over values of one type (strings, ints, weekdays, instants, booleans, addresses). */
    record Compare(ValueReader left, CompareOp op, ValueReader right) implements Condition {
        @Override
        @SuppressWarnings({"unchecked", "rawtypes"})
        public Tri evaluate(SessionContext session) {
            Object l = left.read(session);
            Object r = right.read(session);
            if (l == null || r == null) {
                return Tri.ERROR;
            }
            switch (op) {
                case EQ:
                    return Tri.of(l.equals(r));
                case NE:
                    return Tri.of(!l.equals(r));
                default:
                    break;
            }
            if (!(l instanceof Comparable) || l.getClass() != r.getClass()) {
                return Tri.ERROR;
            }
            int order = ((Comparable) l).compareTo(r);
            return switch (op) {
                case LT -> Tri.of(order < 0);
                case LE -> Tri.of(order <= 0);
                case GT -> Tri.of(order > 0);
                case GE -> Tri.of(order >= 0);
                default -> throw new AssertionError(op);
            };
        }
    }

    /** {@code value [not] in (a, b, ...)}; list elements may be CIDR blocks when the value is an address. */
    record InList(ValueReader value, List<Object> elements, boolean negated) implements Condition {
        @Override
        public Tri evaluate(SessionContext session) {
            Object v = value.read(session);
            if (v == null) {
                return Tri.ERROR;
            }
            boolean found = false;
            for (Object element : elements) {
                if (element.equals(v) || (element instanceof Cidr cidr && v instanceof InetAddress a && cidr.contains(a))) {
                    found = true;
                    break;
                }
            }
            return Tri.of(found != negated);
        }
    }

    record InCidr(ValueReader address, Cidr cidr, boolean negated) implements Condition {
        @Override
        public Tri evaluate(SessionContext session) {
            return address.read(session) instanceof InetAddress a ? Tri.of(cidr.contains(a) != negated) : Tri.ERROR;
        }
    }

    /** {@code "x" [not] in groups}. */
    record InGroups(ValueReader member, boolean negated) implements Condition {
        @Override
        public Tri evaluate(SessionContext session) {
            Object m = member.read(session);
            return m == null ? Tri.ERROR : Tri.of(session.groups().contains(m) != negated);
        }
    }

    /**
     * {@code value matches "regex"}, a find anywhere in the value. The input is wrapped so that a
     * pathological pattern gives up after a bounded number of character reads and counts as an
     * error, instead of stalling the proxy.
     */
    record Matches(ValueReader value, Pattern pattern) implements Condition {
        /** Session strings are short; a match needing this many steps is backtracking out of control. */
        static final int MAX_STEPS = 1_000_000;

        @Override
        public Tri evaluate(SessionContext session) {
            if (!(value.read(session) instanceof String text)) {
                return Tri.ERROR;
            }
            try {
                return Tri.of(pattern.matcher(new BoundedCharSequence(text, new int[] {MAX_STEPS})).find());
            } catch (BoundedCharSequence.Exhausted | StackOverflowError e) {
                return Tri.ERROR;
            }
        }
    }

    record StartsWith(ValueReader value, String prefix) implements Condition {
        @Override
        public Tri evaluate(SessionContext session) {
            return value.read(session) instanceof String text ? Tri.of(text.startsWith(prefix)) : Tri.ERROR;
        }
    }

    /**
     * Inclusive range. For the cyclic attributes {@code hour} and {@code weekday} a range whose
     * low end is above its high end wraps around: {@code hour between 22 and 6} is the night.
     */
    record Between(ValueReader value, ValueReader low, ValueReader high, boolean cyclic, boolean negated)
            implements Condition {
        @Override
        @SuppressWarnings({"unchecked", "rawtypes"})
        public Tri evaluate(SessionContext session) {
            Object v = value.read(session);
            Object lo = low.read(session);
            Object hi = high.read(session);
            if (!(v instanceof Comparable c) || lo == null || hi == null
                    || v.getClass() != lo.getClass() || v.getClass() != hi.getClass()) {
                return Tri.ERROR;
            }
            boolean inside;
            if (cyclic && ((Comparable) lo).compareTo(hi) > 0) {
                inside = c.compareTo(lo) >= 0 || c.compareTo(hi) <= 0;
            } else {
                inside = c.compareTo(lo) >= 0 && c.compareTo(hi) <= 0;
            }
            return Tri.of(inside != negated);
        }
    }

}
