package dev.pgpolicy.fuzz.policy;

import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

/**
 * Text mutations of valid sources: the inputs a broken editor, a bad merge or an attacker with
 * write access to the policy repository would produce. Each mutation is a function of the text
 * and random numbers, so jqwik can shrink a failure to a small edit.
 */
final class Mutations {

    /** Fragments that are meaningful to the grammar, so insertions reach deep into the parser. */
    private static final List<String> TOKENS = List.of(
            "allow", "deny", "mask", "limit", "guard", "audit", "mode", "role", "any", "!", "on", "when",
            "unless", "with", "table", "column", "function", "schema", "database", "@id(\"x\")", "@reason(",
            "@mode(detect)", "(", ")", "{", "}", ";", ",", ".", "*", "\"", "\\", "/*", "*/", "#", "//",
            "==", "!=", "<", ">=", "in", "between", "and", "or", "not", "matches", "starts_with",
            "10.0.0.0/8", "::1", "300.1.1.1", "10.0.0.0/33", "15m", "99999999999999999999", "-1",
            "per", "second", "user", "queries", "rows", "query", "hour", "groups", "partial(", "regex(\"(\"",
            "test", "as", "expect", "by", "warn", "\n", "\t", "\u0000", "\uFEFF", "\uD83D\uDE00", "\u202E");

    private Mutations() {
    }

    interface Mutation {
        String apply(String text);
    }

    static Arbitrary<Mutation> mutations() {
        Arbitrary<Double> position = Arbitraries.doubles().between(0, 1);
        Arbitrary<Integer> length = Arbitraries.integers().between(1, 40);
        return Arbitraries.oneOf(
                Combinators.combine(position, length).as(Mutations::deletion),
                Combinators.combine(position, Arbitraries.of(TOKENS)).as(Mutations::insertion),
                Combinators.combine(position, Arbitraries.strings().all().ofMaxLength(8)).as(Mutations::insertion),
                Combinators.combine(position, position, length).as(Mutations::swap),
                position.map(Mutations::truncation),
                Combinators.combine(position, Arbitraries.chars().all()).as(Mutations::replacement),
                Combinators.combine(position, length).as(Mutations::duplication));
    }

    private static int at(double fraction, String text) {
        return (int) Math.min(text.length(), Math.floor(fraction * (text.length() + 1)));
    }

    static Mutation deletion(double where, int length) {
        return text -> {
            int from = at(where, text);
            return text.substring(0, from) + text.substring(Math.min(text.length(), from + length));
        };
    }

    static Mutation insertion(double where, String fragment) {
        return text -> {
            int from = at(where, text);
            return text.substring(0, from) + fragment + text.substring(from);
        };
    }

    static Mutation swap(double first, double second, int length) {
        return text -> {
            int a = at(Math.min(first, second), text);
            int b = at(Math.max(first, second), text);
            int aEnd = Math.min(b, a + length);
            int bEnd = Math.min(text.length(), b + length);
            return text.substring(0, a) + text.substring(b, bEnd) + text.substring(aEnd, b)
                    + text.substring(a, aEnd) + text.substring(bEnd);
        };
    }

    static Mutation truncation(double where) {
        return text -> text.substring(0, at(where, text));
    }

    static Mutation replacement(double where, char character) {
        return text -> {
            int i = at(where, text);
            return i >= text.length() ? text + character : text.substring(0, i) + character + text.substring(i + 1);
        };
    }

    static Mutation duplication(double where, int length) {
        return text -> {
            int from = at(where, text);
            int to = Math.min(text.length(), from + length);
            return text.substring(0, to) + text.substring(from, to) + text.substring(to);
        };
    }
}
