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

    /** A boolean predicate over the session; rendered fully parenthesised. */
    sealed interface Expr permits UserIs, InGroup, IpIn, HourBetween, Tls, Not, And, Or {
        boolean eval(SessionModel session, Policy policy);

        String render();
    }

    record UserIs(String user) implements Expr {
        public boolean eval(SessionModel s, Policy p) {
            return s.user().equals(user);
        }

        public String render() {
            return "user == \"" + user + "\"";
        }
    }

    record InGroup(String group) implements Expr {
        public boolean eval(SessionModel s, Policy p) {
            return s.groups().contains(group);
        }

        public String render() {
            return "\"" + group + "\" in groups";
        }
    }

    /** {@code client_ip in A.B.C.D/len} for IPv4. */
    record IpIn(int network, int prefix) implements Expr {
        public boolean eval(SessionModel s, Policy p) {
            int mask = prefix == 0 ? 0 : -1 << (32 - prefix);
            return (s.ipv4() & mask) == (network & mask);
        }

        public String render() {
            return "client_ip in " + SessionModel.dotted(network) + "/" + prefix;
        }
    }

    record HourBetween(int from, int to) implements Expr {
        public boolean eval(SessionModel s, Policy p) {
            return s.hour() >= from && s.hour() <= to;
        }

        public String render() {
            return "hour between " + from + " and " + to;
        }
    }

    record Tls() implements Expr {
        public boolean eval(SessionModel s, Policy p) {
            return s.tls();
        }

        public String render() {
            return "tls";
        }
    }

    record Not(Expr operand) implements Expr {
        public boolean eval(SessionModel s, Policy p) {
            return !operand.eval(s, p);
        }

        public String render() {
            return "not (" + operand.render() + ")";
        }
    }

    record And(Expr left, Expr right) implements Expr {
        public boolean eval(SessionModel s, Policy p) {
            return left.eval(s, p) && right.eval(s, p);
        }

        public String render() {
            return "(" + left.render() + ") and (" + right.render() + ")";
        }
    }

    record Or(Expr left, Expr right) implements Expr {
        public boolean eval(SessionModel s, Policy p) {
            return left.eval(s, p) || right.eval(s, p);
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

        boolean matches(SessionModel s, Policy p) {
            if (role == null) {
                return true;
            }
            return p.role(role).eval(s, p) != negated;
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

    record Policy(List<Role> roles, List<Rule> rules, List<Guard> guards) {
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
            return String.join("\n", lines) + "\n";
        }
    }

    /** The session attributes the generator varies; the rest stay at their defaults. */
    record SessionModel(String user, Set<String> groups, int ipv4, int hour, boolean tls) {
        String ip() {
            return dotted(ipv4);
        }

        static String dotted(int address) {
            return ((address >>> 24) & 0xff) + "." + ((address >>> 16) & 0xff) + "."
                    + ((address >>> 8) & 0xff) + "." + (address & 0xff);
        }
    }
}
