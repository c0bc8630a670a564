package dev.pgpolicy.fuzz.policy;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A small model of a policy set, generated at random and rendered to {@code .pgpolicy} text.
 * The model is deliberately independent of the compiler's AST: the differential property compiles
 * the rendered text with the real front end and compiler, and evaluates the model directly with
 * {@link ReferenceEvaluator}, so a disagreement can come from the parser, the compiler or the
 * decision tree.
 */
final class PolicyModel {

    private PolicyModel() {
    }

    /**
     * Kleene logic, as the language specifies for conditions: an attribute the session lacks is
     * an error value that flows through {@code and}, {@code or} and {@code not} and is resolved
     * per rule kind at the end (a deny, mask or guard matches; an allow does not).
     */
    enum Tri {
        TRUE, FALSE, ERROR;

        static Tri of(boolean value) {
            return value ? TRUE : FALSE;
        }

        Tri not() {
            return this == TRUE ? FALSE : this == FALSE ? TRUE : ERROR;
        }

        Tri and(Tri other) {
            if (this == FALSE || other == FALSE) {
                return FALSE;
            }
            return this == ERROR || other == ERROR ? ERROR : TRUE;
        }

        Tri or(Tri other) {
            if (this == TRUE || other == TRUE) {
                return TRUE;
            }
            return this == ERROR || other == ERROR ? ERROR : FALSE;
        }
    }

    /** A boolean predicate over the session; rendered fully parenthesised. */
    sealed interface Expr permits UserIs, InGroup, IpIn, HourBetween, Tls, Not, And, Or {
        Tri eval(SessionModel session, Policy policy);

        String render();
    }

    record UserIs(String user) implements Expr {
        public Tri eval(SessionModel s, Policy p) {
            return Tri.of(s.user().equals(user));
        }

        public String render() {
            return "user == \"" + user + "\"";
        }
    }

    record InGroup(String group) implements Expr {
        public Tri eval(SessionModel s, Policy p) {
            return Tri.of(s.groups().contains(group));
        }

        public String render() {
            return "\"" + group + "\" in groups";
        }
    }

    /** {@code client_ip in A.B.C.D/len} for IPv4. */
    record IpIn(int network, int prefix) implements Expr {
        public Tri eval(SessionModel s, Policy p) {
            if (s.ipv4() == null) {
                return Tri.ERROR;
            }
            int mask = prefix == 0 ? 0 : -1 << (32 - prefix);
            return Tri.of((s.ipv4() & mask) == (network & mask));
        }

        public String render() {
            return "client_ip in " + SessionModel.dotted(network) + "/" + prefix;
        }
    }

    /** Inclusive; a range whose start is after its end wraps around midnight. */
    record HourBetween(int from, int to) implements Expr {
        public Tri eval(SessionModel s, Policy p) {
            return Tri.of(from <= to ? s.hour() >= from && s.hour() <= to : s.hour() >= from || s.hour() <= to);
        }

        public String render() {
            return "hour between " + from + " and " + to;
        }
    }

    record Tls() implements Expr {
        public Tri eval(SessionModel s, Policy p) {
            return Tri.of(s.tls());
        }

        public String render() {
            return "tls";
        }
    }

    record Not(Expr operand) implements Expr {
        public Tri eval(SessionModel s, Policy p) {
            return operand.eval(s, p).not();
        }

        public String render() {
            return "not (" + operand.render() + ")";
        }
    }

    record And(Expr left, Expr right) implements Expr {
        public Tri eval(SessionModel s, Policy p) {
            return left.eval(s, p).and(right.eval(s, p));
        }

        public String render() {
            return "(" + left.render() + ") and (" + right.render() + ")";
        }
    }

    record Or(Expr left, Expr right) implements Expr {
        public Tri eval(SessionModel s, Policy p) {
            return left.eval(s, p).or(right.eval(s, p));
        }

        public String render() {
            return "(" + left.render() + ") or (" + right.render() + ")";
        }
    }

    record Role(String name, Expr body) {
        String render() {
            return "role " + name + " = " + body.render() + ";";
        }
    }

    /** One principal entry: {@code any}, {@code name} or {@code !name}. */
    record Principal(String role, boolean negated) {
        static final Principal ANY = new Principal(null, false);

        Tri matches(SessionModel s, Policy p) {
            if (role == null) {
                return Tri.TRUE;
            }
            Tri value = p.role(role).eval(s, p);
            return negated ? value.not() : value;
        }

        String render() {
            return role == null ? "any" : (negated ? "!" : "") + role;
        }
    }

    enum ResourceKind { TABLE, COLUMN, FUNCTION }

    /** A resource pattern; {@code *} globs within the whole pattern text. */
    record Resource(ResourceKind kind, String pattern) {
        String render() {
            switch (kind) {
                case TABLE:
                    return "table " + pattern;
                case COLUMN:
                    return "column " + pattern;
                case FUNCTION:
                    return "function " + pattern;
            }
            throw new AssertionError(kind);
        }
    }

    enum Effect { ALLOW, DENY }

    record Rule(String id, Effect effect, List<Principal> principals, List<String> actions,
                List<Resource> resources, Expr when, Expr unless) {
        String render() {
            StringBuilder text = new StringBuilder();
            text.append("@id(\"").append(id).append("\") ");
            text.append(effect == Effect.ALLOW ? "allow " : "deny ");
            text.append(principals.stream().map(Principal::render).collect(Collectors.joining(", ")));
            text.append(' ').append(String.join(", ", actions));
            if (!resources.isEmpty()) {
                text.append(" on ")
                        .append(resources.stream().map(Resource::render).collect(Collectors.joining(", ")));
            }
            if (when != null) {
                text.append(" when ").append(when.render());
            }
            if (unless != null) {
                text.append(" unless ").append(unless.render());
            }
            return text.append(';').toString();
        }
    }

    enum GuardAction { DENY, WARN, OFF }

    record Guard(List<Principal> principals, String heuristic, GuardAction action) {
        String render() {
            return "guard " + principals.stream().map(Principal::render).collect(Collectors.joining(", "))
                    + " " + heuristic + " " + action.name().toLowerCase(Locale.ROOT) + ";";
        }
    }

    /**
     * A mask function with fixed arguments, in increasing order of restriction: when several
     * mask rules cover a column the most restrictive wins, then the earlier rule.
     */
    enum MaskKind {
        EMAIL("email()"), PARTIAL("partial(0, \"XX\", 2)"), REGEX("regex(\"[0-9]\", \"#\")"), HASH("hash()"),
        REDACT("redact(\"***\")"), NULL("null()");

        final String text;

        MaskKind(String text) {
            this.text = text;
        }
    }

    record MaskRule(String id, List<Principal> principals, String columnPattern, MaskKind mask) {
        String render() {
            return "@id(\"" + id + "\") mask "
                    + principals.stream().map(Principal::render).collect(Collectors.joining(", "))
                    + " " + columnPattern + " with " + mask.text + ";";
        }
    }

    record Policy(List<Role> roles, List<Rule> rules, List<Guard> guards, List<MaskRule> masks) {
        Expr role(String name) {
            for (Role role : roles) {
                if (role.name().equals(name)) {
                    return role.body();
                }
            }
            throw new AssertionError("generated principal refers to undefined role " + name);
        }

        String render() {
            List<String> lines = new ArrayList<>();
            lines.add("# generated");
            roles.forEach(r -> lines.add(r.render()));
            rules.forEach(r -> lines.add(r.render()));
            guards.forEach(g -> lines.add(g.render()));
            masks.forEach(m -> lines.add(m.render()));
            return String.join("\n", lines) + "\n";
        }
    }

    /**
     * The session attributes the generator varies; the rest stay at their defaults. A null
     * {@code ipv4} is a client without an address (a Unix-domain socket).
     */
    record SessionModel(String user, Set<String> groups, Integer ipv4, int hour, boolean tls) {

        static String dotted(int address) {
            return ((address >>> 24) & 0xff) + "." + ((address >>> 16) & 0xff) + "."
                    + ((address >>> 8) & 0xff) + "." + (address & 0xff);
        }
    }
}
