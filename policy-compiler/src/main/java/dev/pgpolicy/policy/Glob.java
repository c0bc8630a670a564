package dev.pgpolicy.policy;

import dev.pgpolicy.lang.PatternPart;

/**
 * One part of a name pattern: a literal name, or a glob where {@code *} matches any run of
 * characters. Names are compared exactly; both the SQL analyser and the policy parser have
 * already folded unquoted identifiers to lower case.
 */
record Glob(String text, boolean literal) {

    static Glob of(PatternPart part) {
        return new Glob(part.text(), !part.isGlob());
    }

    boolean matchesAll() {
        return !literal && text.chars().allMatch(c -> c == '*');
    }

    boolean matches(String name) {
        if (name == null) {
            return false;
        }
        return literal ? text.equals(name) : globMatch(text, name);
    }

    /** Iterative wildcard match with backtracking to the last star: linear in practice, no recursion. */
    private static boolean globMatch(String pattern, String name) {
        int p = 0;
        int n = 0;
        int star = -1;
        int resume = 0;
        while (n < name.length()) {
            if (p < pattern.length() && pattern.charAt(p) == '*') {
                star = p++;
                resume = n;
            } else if (p < pattern.length() && pattern.charAt(p) == name.charAt(n)) {
                p++;
                n++;
            } else if (star >= 0) {
                p = star + 1;
                n = ++resume;
            } else {
                return false;
            }
        }
        while (p < pattern.length() && pattern.charAt(p) == '*') {
            p++;
        }
        return p == pattern.length();
    }

    @Override
    public String toString() {
        return text;
    }
}
