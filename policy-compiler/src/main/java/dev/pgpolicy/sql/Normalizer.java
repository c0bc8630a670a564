package dev.pgpolicy.sql;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * The literal-free form of a statement and its fingerprint. Constants become {@code ?},
 * positional parameters stay {@code $n}, comments and white space collapse, unquoted identifiers
 * are folded, a parenthesised list of only constants and parameters (as after {@code IN})
 * collapses to {@code (?)}, and so do further such lists after it (the rows of a VALUES batch). Two statements with the same normalized text differ only in constant
 * values, comments and spacing; nothing the facts depend on, so facts are cached by it.
 */
public final class Normalizer {
    private static final HexFormat HEX = HexFormat.of();

    private Normalizer() {
    }

    public static String normalize(LexedStatement statement) {
        return normalize(statement.significant());
    }

    static String normalize(List<Token> words) {
        // Sized from the source text, which the normalized text rarely outgrows (constants shrink
        // to "?"): a builder sized by token count grew, and copied itself, for most statements.
        int sourceLength = words.isEmpty() ? 0 : words.get(words.size() - 1).end() - words.get(0).start();
        StringBuilder out = new StringBuilder(Math.max(16, sourceLength + 8));
        Token previous = null;
        for (int i = 0; i < words.size(); i++) {
            Token token = words.get(i);
            if (token.is(TokenType.LEFT_PAREN)) {
                // A single constant in parentheses is just a constant, except as a VALUES row.
                int close = constantListEnd(words, i, previous != null && previous.isWord("values") ? 1 : 2);
                if (close > 0) {
                    space(out, previous, token);
                    out.append("(?)");
                    // Further rows of constants, as in a multi-row VALUES batch, add nothing:
                    // batches of any size share one normalized text and one cache entry.
                    while (close + 2 < words.size() && words.get(close + 1).is(TokenType.COMMA)
                            && words.get(close + 2).is(TokenType.LEFT_PAREN)) {
                        int next = constantListEnd(words, close + 2, 1);
                        if (next < 0) {
                            break;
                        }
                        close = next;
                    }
                    previous = words.get(close);
                    i = close;
                    continue;
                }
            }
            space(out, previous, token);
            out.append(render(token));
            previous = token;
        }
        return out.toString();
    }

    /** The index of the ")" closing a list of at least {@code minimum} constants or parameters starting at {@code open}, or -1. */
    static int constantListEnd(List<Token> words, int open, int minimum) {
        int index = open + 1;
        int elements = 0;
        while (index < words.size()) {
            Token token = words.get(index);
            if (token.is(TokenType.OPERATOR) && (token.value().equals("-") || token.value().equals("+"))
                    && index + 1 < words.size() && words.get(index + 1).is(TokenType.NUMBER)) {
                index++;
                token = words.get(index);
            }
            if (!token.type().isConstant() && !token.is(TokenType.PARAMETER)) {
                return -1;
            }
            elements++;
            index++;
            if (index >= words.size()) {
                return -1;
            }
            Token separator = words.get(index);
            if (separator.is(TokenType.RIGHT_PAREN)) {
                return elements >= minimum ? index : -1;
            }
            if (!separator.is(TokenType.COMMA)) {
                return -1;
            }
            index++;
        }
        return -1;
    }

    private static String render(Token token) {
        switch (token.type()) {
            case STRING:
            case ESCAPE_STRING:
            case UNICODE_STRING:
            case DOLLAR_STRING:
            case BIT_STRING:
            case NUMBER:
                return "?";
            case QUOTED_IDENTIFIER:
                return quoteIdentifier(token.value());
            default:
                return token.value();
        }
    }

    static String quoteIdentifier(String name) {
        return '"' + name.replace("\"", "\"\"") + '"';
    }

    private static void space(StringBuilder out, Token previous, Token next) {
        if (previous == null) {
            return;
        }
        switch (next.type()) {
            case COMMA:
            case RIGHT_PAREN:
            case RIGHT_BRACKET:
            case DOT:
            case CAST:
                return;
            case LEFT_PAREN:
            case LEFT_BRACKET:
                if (previous.is(TokenType.WORD) || previous.is(TokenType.QUOTED_IDENTIFIER)
                        || previous.is(TokenType.RIGHT_BRACKET)) {
                    return;
                }
                break;
            default:
                break;
        }
        switch (previous.type()) {
            case LEFT_PAREN:
            case LEFT_BRACKET:
            case DOT:
            case CAST:
                return;
            default:
                out.append(' ');
        }
    }

    /** The first 64 bits of SHA-256 over the normalized text, in hex. */
    public static String fingerprint(String normalized) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(normalized.getBytes(StandardCharsets.UTF_8));
            return HEX.formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every Java platform", e);
        }
    }
}
