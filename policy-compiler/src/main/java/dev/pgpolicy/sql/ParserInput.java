package dev.pgpolicy.sql;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Rewrites a statement into text JSqlParser reads the way PostgreSQL would. JSqlParser rejects
 * tagged dollar quotes, {@code E'...'} strings with escaped quotes and nested comments, and it
 * treats a backslash before a quote as an escape where PostgreSQL does not; any of these lets a
 * crafted string hide SQL from the analyser. So every constant becomes a neutral one
 * ({@code 's'}, {@code 1}), comments disappear, quoted identifiers are re-quoted from their decoded
 * value, and only the token structure the lexer saw remains.
 *
 * <p>PostgreSQL syntax JSqlParser 5.3 lacks is rewritten into syntax that names the same tables,
 * columns and functions: operators it does not know become {@code ||} (PostgreSQL gives every
 * such operator the same precedence as {@code ||}), {@code TABLE t} becomes
 * {@code SELECT * FROM t}, {@code ROWS FROM (f(), g())} becomes {@code (SELECT f(), g())}, and modifiers that change no object ({@code NOT MATERIALIZED},
 * {@code BETWEEN SYMMETRIC}, {@code COLLATE "C"}, {@code ONLY}, {@code OVERRIDING ... VALUE},
 * {@code GROUP BY DISTINCT}, {@code ORDER BY ... USING op}, {@code INTO TEMP}, the alias of
 * {@code JOIN ... USING (...) AS j}) are dropped.
 * The rewrite reads token types and words only, never constant values, so it is the same for
 * every statement with the same normalized text, which is what the facts cache relies on.
 */
final class ParserInput {
    /** Binary operators JSqlParser 5.3 parses (measured); any other becomes {@code ||}. */
    private static final Set<String> KNOWN_BINARY = Set.of("+", "-", "*", "/", "%", "^", "||", "=", "<>", "!=",
            "<", ">", "<=", ">=", "~", "~*", "!~", "!~*", "->", "->>", "#>", "#>>", "@>", "<@", "?", "?|", "?&", "&&",
            "<<", ">>", "&", "|", "@@", "<->", "~~", "!~~", "&>", "?#", "?-", "@@@");
    private static final Set<String> KNOWN_PREFIX = Set.of("-", "+", "~");
    /** Key words after which an operator is a prefix operator. */
    private static final Set<String> OPERAND_STARTERS = Set.of("select", "where", "and", "or", "not", "when", "then",
            "else", "by", "on", "having", "set", "return", "returning", "in", "is", "like", "between", "distinct",
            "all", "any", "some", "case", "values", "array", "limit", "offset", "as", "from", "using");
    private static final Set<String> RELATION_INTRODUCERS = Set.of("from", "update", "join", "using");

    private ParserInput() {
    }

    /** The parser text of a query's significant tokens. */
    static String of(List<Token> tokens) {
        return render(rewrite(tokens));
    }

    /**
     * How many query bodies ({@code SELECT} and {@code VALUES} lists) the rewritten statement
     * contains: the facts walker must visit exactly as many, or a subquery went unseen.
     */
    static int queryBodies(List<Token> rewritten) {
        int count = 0;
        for (int i = 0; i < rewritten.size(); i++) {
            Token token = rewritten.get(i);
            if (token.isWord("select") || token.isWord("values") && !(i > 0 && rewritten.get(i - 1).isWord("default"))) {
                count++;
            }
        }
        return count;
    }

    static List<Token> rewrite(List<Token> input) {
        List<Token> words = new ArrayList<>(input.size());
        for (Token token : input) {
            if (!token.isTrivia()) {
                words.add(token);
            }
        }
        List<Token> out = new ArrayList<>(words.size() + 8);
        for (int i = 0; i < words.size(); i++) {
            Token token = words.get(i);
            Token previous = out.isEmpty() ? null : out.get(out.size() - 1);
            Token next = i + 1 < words.size() ? words.get(i + 1) : null;
            if (token.is(TokenType.LEFT_PAREN)) {
                // A long IN list or VALUES batch of constants names no object: keep one element
                // of one row, so that ORM batch loads stay small enough to parse.
                boolean valuesRow = previous != null && previous.isWord("values");
                int close = Normalizer.constantListEnd(words, i, valuesRow ? 1 : 2);
                if (close > 0) {
                    out.add(token);
                    out.add(words.get(i + 1).is(TokenType.OPERATOR) ? words.get(i + 2) : words.get(i + 1));
                    out.add(words.get(close));
                    while (valuesRow && close + 2 < words.size() && words.get(close + 1).is(TokenType.COMMA)
                            && words.get(close + 2).is(TokenType.LEFT_PAREN)) {
                        int row = Normalizer.constantListEnd(words, close + 2, 1);
                        if (row < 0) {
                            break;
                        }
                        close = row;
                    }
                    i = close;
                    continue;
                }
            }
            if (token.is(TokenType.WORD)) {
                switch (token.value()) {
                    case "table":
                        out.add(word(token, "select"));
                        out.add(new Token(TokenType.OPERATOR, token.start(), token.end(), "*", true));
                        out.add(word(token, "from"));
                        continue;
                    case "rows":
                        // ROWS FROM (f(a), g(b)) calls the same functions as (SELECT f(a), g(b)).
                        if (next != null && next.isWord("from") && i + 2 < words.size()
                                && words.get(i + 2).is(TokenType.LEFT_PAREN) && previous != null
                                && (previous.isWord("from") || previous.isWord("join") || previous.isWord("lateral")
                                || previous.is(TokenType.COMMA))) {
                            out.add(words.get(i + 2));
                            out.add(word(token, "select"));
                            i += 2;
                            continue;
                        }
                        break;
                    case "when":
                        // MERGE's "WHEN [NOT] MATCHED THEN DO NOTHING" changes nothing; JSqlParser lacks it.
                        int end = doNothingClauseEnd(words, i);
                        if (end > 0) {
                            i = end;
                            continue;
                        }
                        break;
                    case "not":
                        if (next != null && next.isWord("materialized") && previous != null && previous.isWord("as")) {
                            i++;
                            continue;
                        }
                        break;
                    case "symmetric":
                    case "asymmetric":
                        if (previous != null && previous.isWord("between")) {
                            continue;
                        }
                        break;
                    case "only":
                        if (previous != null && (previous.is(TokenType.COMMA) || previous.is(TokenType.WORD)
                                && RELATION_INTRODUCERS.contains(previous.value())) && isIdentifier(next)) {
                            continue;
                        }
                        break;
                    case "collate":
                        i = skipName(words, i + 1) - 1;
                        continue;
                    case "overriding":
                        if (i + 2 < words.size() && words.get(i + 2).isWord("value")) {
                            i += 2;
                            continue;
                        }
                        break;
                    case "distinct":
                        if (previous != null && previous.isWord("by") && out.size() >= 2 && out.get(out.size() - 2).isWord("group")) {
                            continue;
                        }
                        break;
                    case "using":
                        if (next != null && next.is(TokenType.OPERATOR)) {
                            i++;
                            continue;
                        }
                        // JOIN ... USING (a, b) AS alias (PostgreSQL 14+): keep the columns, drop
                        // the alias; references through it then have an unknown owner.
                        if (next != null && next.is(TokenType.LEFT_PAREN)) {
                            int close = i + 1;
                            while (close < words.size() && !words.get(close).is(TokenType.RIGHT_PAREN)) {
                                close++;
                            }
                            if (close + 2 < words.size() && words.get(close + 1).isWord("as") && isIdentifier(words.get(close + 2))) {
                                out.addAll(words.subList(i, close + 1));
                                i = close + 2;
                                continue;
                            }
                        }
                        break;
                    case "temp":
                    case "temporary":
                    case "unlogged":
                        if (previous != null && previous.isWord("into")) {
                            if (next != null && next.isWord("table")) {
                                i++;
                            }
                            continue;
                        }
                        break;
                    case "operator":
                        if (next != null && next.is(TokenType.LEFT_PAREN)) {
                            int close = i + 1;
                            while (close < words.size() && !words.get(close).is(TokenType.RIGHT_PAREN)) {
                                close++;
                            }
                            out.add(new Token(TokenType.OPERATOR, token.start(), token.end(), "||", true));
                            i = close;
                            continue;
                        }
                        break;
                    default:
                        break;
                }
            } else if (token.is(TokenType.OPERATOR)) {
                boolean prefix = previous == null || !endsOperand(previous);
                if (token.value().equals("*")) {
                    // The star of SELECT * and t.*, or multiplication; never rewritten.
                    out.add(token);
                    continue;
                }
                if (prefix && !KNOWN_PREFIX.contains(token.value())) {
                    // An operand joined by a known binary operator keeps the argument inside an expression.
                    out.add(new Token(TokenType.NUMBER, token.start(), token.end(), "1", true));
                    out.add(new Token(TokenType.OPERATOR, token.start(), token.end(), "||", true));
                    continue;
                }
                if (!prefix && !KNOWN_BINARY.contains(token.value())) {
                    out.add(new Token(TokenType.OPERATOR, token.start(), token.end(), "||", true));
                    continue;
                }
            }
            out.add(token);
        }
        return out;
    }

    private static int doNothingClauseEnd(List<Token> words, int when) {
        int i = when + 1;
        if (i < words.size() && words.get(i).isWord("not")) {
            i++;
        }
        if (i + 3 < words.size() && words.get(i).isWord("matched") && words.get(i + 1).isWord("then")
                && words.get(i + 2).isWord("do") && words.get(i + 3).isWord("nothing")) {
            return i + 3;
        }
        return -1;
    }

    private static Token word(Token at, String value) {
        return new Token(TokenType.WORD, at.start(), at.end(), value, true);
    }

    private static boolean isIdentifier(Token token) {
        return token != null && (token.is(TokenType.WORD) || token.is(TokenType.QUOTED_IDENTIFIER));
    }

    /** Index after a possibly qualified name starting at {@code from}. */
    private static int skipName(List<Token> words, int from) {
        int i = from;
        if (i < words.size() && isIdentifier(words.get(i))) {
            i++;
            while (i + 1 < words.size() && words.get(i).is(TokenType.DOT) && isIdentifier(words.get(i + 1))) {
                i += 2;
            }
        }
        return i;
    }

    private static boolean endsOperand(Token token) {
        switch (token.type()) {
            case WORD:
                return !OPERAND_STARTERS.contains(token.value());
            case QUOTED_IDENTIFIER:
            case STRING:
            case ESCAPE_STRING:
            case UNICODE_STRING:
            case DOLLAR_STRING:
            case BIT_STRING:
            case NUMBER:
            case PARAMETER:
            case RIGHT_PAREN:
            case RIGHT_BRACKET:
                return true;
            default:
                return false;
        }
    }

    /** Tokens joined with a space wherever the source had white space or a comment between them. */
    static String render(List<Token> tokens) {
        StringBuilder out = new StringBuilder();
        Token previous = null;
        for (Token token : tokens) {
            if (previous != null && (token.start() > previous.end() || token.start() == previous.start()
                    || wordLike(previous) && wordLike(token))) {
                out.append(' ');
            }
            out.append(render(token));
            previous = token;
        }
        return out.toString();
    }

    private static boolean wordLike(Token token) {
        return token.is(TokenType.WORD) || token.is(TokenType.QUOTED_IDENTIFIER) || token.is(TokenType.PARAMETER);
    }

    private static String render(Token token) {
        switch (token.type()) {
            case STRING:
            case ESCAPE_STRING:
            case UNICODE_STRING:
            case DOLLAR_STRING:
            case BIT_STRING:
                return " 's' ";
            case NUMBER:
                return " 1 ";
            case QUOTED_IDENTIFIER:
                return Normalizer.quoteIdentifier(token.value());
            default:
                return token.value();
        }
    }
}
