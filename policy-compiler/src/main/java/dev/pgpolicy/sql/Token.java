package dev.pgpolicy.sql;

import java.util.Objects;

/**
 * One lexical token of PostgreSQL SQL. {@code start} and {@code end} are UTF-16 offsets into the
 * source text; {@code value} is what the token means after PostgreSQL's folding and decoding: the
 * lower-cased name of an unquoted word, the decoded name of a quoted identifier, the decoded
 * content of a string constant, the number or operator text otherwise. {@code wellFormed} is
 * false for input PostgreSQL's lexer rejects: a string, quoted identifier or comment that runs to
 * the end of the input, a bad Unicode escape, a stray character. The analyser then treats the
 * statement as unparsed.
 */
public record Token(TokenType type, int start, int end, String value, boolean wellFormed) {
    public Token {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(value, "value");
    }

    public boolean isWord(String lowerCaseWord) {
        return type == TokenType.WORD && value.equals(lowerCaseWord);
    }

    public boolean isTrivia() {
        return type.isTrivia();
    }

    public boolean isStringConstant() {
        return type.isStringConstant();
    }

    public boolean is(TokenType other) {
        return type == other;
    }

    /** The index of the parenthesis that closes the one at {@code open}, or -1 when none does. */
    static int matchingParen(java.util.List<Token> tokens, int open) {
        int depth = 0;
        for (int i = open; i < tokens.size(); i++) {
            if (tokens.get(i).is(TokenType.LEFT_PAREN)) {
                depth++;
            } else if (tokens.get(i).is(TokenType.RIGHT_PAREN)) {
                depth--;
                if (depth == 0) {
                    return i;
                }
            }
        }
        return -1;
    }
}
