package dev.pgpolicy.sql;

import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Heuristics read from a statement's tokens rather than its parse tree: those that depend on
 * comments or constant values, which the literal-free cache key does not keep (comment after a
 * literal, sensitive {@code current_setting} names, untrusted languages named in a string), and
 * those that must also work when the parser fails or the code sits in a function or DO body
 * (sleep, file access, program execution). They run on every message, never from the cache.
 */
final class TokenHeuristics {
    /**
     * A trace comment appended by an application or sqlcommenter: only {@code key=value} pairs
     * (values optionally quoted, URL-encoded), as in {@code /* app=web,trace=abc *}{@code /} or
     * {@code /*controller='users',traceparent='00-4bf9...-01'*}{@code /}.
     */
    private static final Pattern TRACE_COMMENT = Pattern.compile(
            "\\s*[A-Za-z_][\\w.\\-]*\\s*[=:]\\s*('[^']*'|\"[^\"]*\"|[^\\s,'\"]*)"
                    + "(\\s*[,;\\s]\\s*[A-Za-z_][\\w.\\-]*\\s*[=:]\\s*('[^']*'|\"[^\"]*\"|[^\\s,'\"]*))*\\s*,?\\s*");

    /** Untrusted language names distinctive enough to flag wherever they appear in DDL or DO. */
    private static final Set<String> DISTINCT_UNTRUSTED = Set.of("plpythonu", "plpython2u", "plpython3u", "plperlu",
            "pltclu", "plsh", "pljavau", "plr", "plrustu", "plluau");

    /** Bodies of functions and DO blocks are scanned this deep (a body that builds another body). */
    private static final int MAX_BODY_DEPTH = 3;

    private TokenHeuristics() {
    }

    static Set<Heuristic> scan(LexedStatement statement, StatementKind kind) {
        Set<Heuristic> findings = EnumSet.noneOf(Heuristic.class);
        commentAfterLiteral(statement.tokens(), findings);
        calls(statement.significant(), findings);
        if (kind == StatementKind.DDL || kind == StatementKind.DO) {
            languages(statement.significant(), findings);
            bodies(statement.significant(), findings, 1);
        }
        return findings;
    }

    /**
     * The {@code ' --} injection pattern: a string literal followed, with only white space
     * between, by a comment that either contains a quote (the closing quote of the literal the
     * attacker broke out of) or ends the statement and is not a trace comment; or by a block
     * comment that never closes. Comments elsewhere, and trace comments after normal SQL, are
     * not findings.
     */
    static void commentAfterLiteral(List<Token> tokens, Set<Heuristic> findings) {
        for (int i = 0; i < tokens.size(); i++) {
            Token token = tokens.get(i);
            if (!(token.is(TokenType.STRING) || token.is(TokenType.ESCAPE_STRING) || token.is(TokenType.UNICODE_STRING))) {
                continue;
            }
            int next = i + 1;
            while (next < tokens.size() && tokens.get(next).is(TokenType.WHITESPACE)) {
                next++;
            }
            if (next >= tokens.size() || !tokens.get(next).type().isComment()) {
                continue;
            }
            Token comment = tokens.get(next);
            boolean endsStatement = true;
            for (int j = next + 1; j < tokens.size(); j++) {
                if (!tokens.get(j).isTrivia()) {
                    endsStatement = false;
                    break;
                }
            }
            String text = comment.value();
            if (!comment.wellFormed() || text.indexOf('\'') >= 0 && !TRACE_COMMENT.matcher(text).matches()
                    || endsStatement && !TRACE_COMMENT.matcher(text).matches()) {
                findings.add(Heuristic.COMMENT_AFTER_LITERAL);
                return;
            }
        }
    }

    /** Function calls by name: a word (optionally schema-qualified) followed by "(". */
    private static void calls(List<Token> words, Set<Heuristic> findings) {
        for (int i = 0; i + 1 < words.size(); i++) {
            Token token = words.get(i);
            if (!(token.is(TokenType.WORD) || token.is(TokenType.QUOTED_IDENTIFIER))
                    || !words.get(i + 1).is(TokenType.LEFT_PAREN)) {
                continue;
            }
            String schema = null;
            if (i >= 2 && words.get(i - 1).is(TokenType.DOT)
                    && (words.get(i - 2).is(TokenType.WORD) || words.get(i - 2).is(TokenType.QUOTED_IDENTIFIER))) {
                schema = words.get(i - 2).value();
            }
            ObjectName function = new ObjectName(schema, token.value());
            findings.addAll(HeuristicRules.forFunction(function));
            if (function.name().equals("current_setting") && (schema == null || schema.equals("pg_catalog"))) {
                Token argument = i + 2 < words.size() ? words.get(i + 2) : null;
                if (argument == null || !argument.isStringConstant()
                        || HeuristicRules.SENSITIVE_SETTINGS.contains(argument.value().trim().toLowerCase(Locale.ROOT))) {
                    findings.add(Heuristic.CATALOG_PROBE);
                }
            }
        }
    }

    /** {@code LANGUAGE plpython3u}, {@code LANGUAGE 'c'}, {@code CREATE EXTENSION plperlu}, ... */
    private static void languages(List<Token> words, Set<Heuristic> findings) {
        for (int i = 0; i < words.size(); i++) {
            Token token = words.get(i);
            if (!token.is(TokenType.WORD) && !token.isStringConstant() && !token.is(TokenType.QUOTED_IDENTIFIER)) {
                continue;
            }
            String value = token.value().toLowerCase(Locale.ROOT);
            if (DISTINCT_UNTRUSTED.contains(value)
                    || i > 0 && words.get(i - 1).isWord("language") && HeuristicRules.UNTRUSTED_LANGUAGES.contains(value)) {
                findings.add(Heuristic.PROGRAM_EXEC);
            }
        }
    }

    /** Function and DO bodies are strings to the lexer; scan the code inside them the same way. */
    private static void bodies(List<Token> words, Set<Heuristic> findings, int depth) {
        if (depth > MAX_BODY_DEPTH) {
            return;
        }
        for (Token token : words) {
            if (!token.is(TokenType.DOLLAR_STRING) && !token.is(TokenType.STRING) && !token.is(TokenType.ESCAPE_STRING)) {
                continue;
            }
            List<Token> body = SqlLexer.tokenize(token.value());
            List<Token> significant = body.stream().filter(t -> !t.isTrivia()).toList();
            calls(significant, findings);
            boolean copy = false;
            for (Token word : significant) {
                copy |= word.isWord("copy");
                if (copy && word.isWord("program")) {
                    findings.add(Heuristic.PROGRAM_EXEC);
                }
            }
            bodies(significant, findings, depth + 1);
        }
    }
}
