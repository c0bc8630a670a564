package dev.pgpolicy.sql;

import java.util.List;

/**
 * Rewrites a statement into text JSqlParser reads the way PostgreSQL would. JSqlParser rejects
 * tagged dollar quotes, {@code E'...'} strings with escaped quotes and nested comments, and it
 * treats a backslash before a quote as an escape where PostgreSQL does not; any of these lets a
 * crafted string hide SQL from the analyser. So every constant becomes a neutral one
 * ({@code 's'}, {@code 1}), comments disappear, quoted identifiers are re-quoted from their decoded
 * value, and only the token structure the lexer saw remains. Constants never change which tables,
 * columns or functions a statement uses, so this loses nothing the facts need.
 */
final class ParserInput {
    private ParserInput() {
    }

    /** The tokens, with a space wherever the source had white space or a comment between two of them. */
    static String of(List<Token> tokens) {
        StringBuilder out = new StringBuilder();
        Token previous = null;
        for (Token token : tokens) {
            if (token.isTrivia()) {
                continue;
            }
            if (previous != null && (token.start() > previous.end() || wordLike(previous) && wordLike(token))) {
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
            case WORD:
                return token.value();
            default:
                return token.value();
        }
    }
}
