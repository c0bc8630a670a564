package dev.pgpolicy.sql;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A lexer for PostgreSQL SQL that follows the server's own scanner (src/backend/parser/scan.l)
 * closely enough that statement boundaries, literals and identifiers come out exactly as the
 * server sees them: dollar quotes with and without tags, {@code E''} escapes, {@code U&''} and
 * {@code U&""} with {@code UESCAPE}, bit strings, nested block comments, {@code ::} casts and
 * operator splitting. By default it assumes {@code standard_conforming_strings = on} (the default
 * since 9.1), so a backslash in {@code '...'} is an ordinary character; sessions that turn it off
 * are lexed with {@link #tokenize(String, boolean)}.
 *
 * <p>It never throws: input the server would reject becomes tokens marked not well-formed.
 */
public final class SqlLexer {
    /** PostgreSQL truncates identifiers to NAMEDATALEN - 1 bytes (src/include/pg_config_manual.h). */
    static final int MAX_IDENTIFIER_BYTES = 63;

    private static final String OPERATOR_CHARS = "~!@#^&|`?+-*/%<>=";
    /** Characters that allow a multi-character operator to end in + or - (scan.l, "operator"). */
    private static final String NON_MATH_OPERATOR_CHARS = "~!@#^&|`?%";

    private final String sql;
    private final boolean standardConformingStrings;
    private final List<Token> tokens;
    private int pos;

    private SqlLexer(String sql, boolean standardConformingStrings) {
        this.sql = sql;
        this.standardConformingStrings = standardConformingStrings;
        // About one token per four characters in typical SQL (words, blanks, punctuation): sized
        // so that the list rarely grows, as growing copied it several times per statement.
        this.tokens = new ArrayList<>(Math.max(10, sql.length() / 4));
    }

    /** Tokens as the server sees them with {@code standard_conforming_strings = on}, the default. */
    public static List<Token> tokenize(String sql) {
        return tokenize(sql, true);
    }

    /**
     * Tokens as the server sees them under the session's {@code standard_conforming_strings}
     * (reported by the server in ParameterStatus). With it off, a backslash escapes inside
     * {@code '...'} as it does in {@code E'...'}: the same text can then hide or reveal SQL,
     * so the proxy must lex with the session's real setting.
     */
    public static List<Token> tokenize(String sql, boolean standardConformingStrings) {
        SqlLexer lexer = new SqlLexer(sql, standardConformingStrings);
        lexer.run();
        // Wrapped, not copied: the lexer is discarded, so nothing else holds the list.
        return Collections.unmodifiableList(lexer.tokens);
    }

    private void run() {
        int length = sql.length();
        while (pos < length) {
            int start = pos;
            char c = sql.charAt(pos);
            if (isWhitespace(c)) {
                while (pos < length && isWhitespace(sql.charAt(pos))) {
                    pos++;
                }
                // Most white space between words is one blank: share its text.
                add(TokenType.WHITESPACE, start, pos - start == 1 && c == ' ' ? " " : sql.substring(start, pos), true);
            } else if (c == '-' && peek(1) == '-') {
                while (pos < length && sql.charAt(pos) != '\n' && sql.charAt(pos) != '\r') {
                    pos++;
                }
                add(TokenType.LINE_COMMENT, start, sql.substring(start + 2, pos), true);
            } else if (c == '/' && peek(1) == '*') {
                blockComment(start);
            } else if (c == '\'') {
                pos++;
                quoted(TokenType.STRING, start, '\'', !standardConformingStrings);
            } else if (c == '"') {
                pos++;
                quotedIdentifier(start, false);
            } else if ((c == 'e' || c == 'E') && peek(1) == '\'') {
                pos += 2;
                quoted(TokenType.ESCAPE_STRING, start, '\'', true);
            } else if ((c == 'b' || c == 'B' || c == 'x' || c == 'X') && peek(1) == '\'') {
                pos += 2;
                quoted(TokenType.BIT_STRING, start, '\'', false);
            } else if ((c == 'n' || c == 'N') && peek(1) == '\'') {
                // National character constant: the same as a plain string for PostgreSQL.
                pos += 2;
                quoted(TokenType.STRING, start, '\'', !standardConformingStrings);
            } else if ((c == 'u' || c == 'U') && peek(1) == '&' && peek(2) == '\'') {
                pos += 3;
                unicodeString(start);
            } else if ((c == 'u' || c == 'U') && peek(1) == '&' && peek(2) == '"') {
                pos += 3;
                quotedIdentifier(start, true);
            } else if (c == '$') {
                dollar(start);
            } else if (isIdentStart(c)) {
                while (pos < length && isIdentContinue(sql.charAt(pos))) {
                    pos++;
                }
                add(TokenType.WORD, start, truncateIdentifier(foldedWord(start, pos)), true);
            } else if (isDigit(c) || (c == '.' && isDigit(peek(1)))) {
                number(start);
            } else if (c == ':' && peek(1) == ':') {
                pos += 2;
                add(TokenType.CAST, start, "::", true);
            } else if (c == ':' && peek(1) == '=') {
                pos += 2;
                add(TokenType.OPERATOR, start, ":=", true);
            } else if (c == ':') {
                pos++;
                add(TokenType.COLON, start, ":", true);
            } else if (c == '(') {
                single(TokenType.LEFT_PAREN, start);
            } else if (c == ')') {
                single(TokenType.RIGHT_PAREN, start);
            } else if (c == '[') {
                single(TokenType.LEFT_BRACKET, start);
            } else if (c == ']') {
                single(TokenType.RIGHT_BRACKET, start);
            } else if (c == ',') {
                single(TokenType.COMMA, start);
            } else if (c == ';') {
                single(TokenType.SEMICOLON, start);
            } else if (c == '.') {
                if (peek(1) == '.') {
                    pos += 2;
                    add(TokenType.OPERATOR, start, "..", true);
                } else {
                    single(TokenType.DOT, start);
                }
            } else if (OPERATOR_CHARS.indexOf(c) >= 0) {
                operator(start);
            } else {
                pos++;
                add(TokenType.INVALID, start, sql.substring(start, pos), false);
            }
        }
    }

    private void single(TokenType type, int start) {
        pos++;
        add(type, start, SINGLE_CHARACTER_TEXTS[type.ordinal()], true);
    }

    /**
     * The text of each single-character token type ({@link #single}), shared by all its tokens:
     * punctuation is a good part of every statement's tokens, and the lexer runs on every message.
     */
    private static final String[] SINGLE_CHARACTER_TEXTS = new String[TokenType.values().length];

    static {
        SINGLE_CHARACTER_TEXTS[TokenType.LEFT_PAREN.ordinal()] = "(";
        SINGLE_CHARACTER_TEXTS[TokenType.RIGHT_PAREN.ordinal()] = ")";
        SINGLE_CHARACTER_TEXTS[TokenType.LEFT_BRACKET.ordinal()] = "[";
        SINGLE_CHARACTER_TEXTS[TokenType.RIGHT_BRACKET.ordinal()] = "]";
        SINGLE_CHARACTER_TEXTS[TokenType.COMMA.ordinal()] = ",";
        SINGLE_CHARACTER_TEXTS[TokenType.SEMICOLON.ordinal()] = ";";
        SINGLE_CHARACTER_TEXTS[TokenType.DOT.ordinal()] = ".";
    }

    /** {@link #foldCase} of the word from {@code start} to {@code end}, copied from the text once rather than twice. */
    private String foldedWord(int start, int end) {
        for (int i = start; i < end; i++) {
            char c = sql.charAt(i);
            if (c >= 'A' && c <= 'Z') {
                char[] chars = new char[end - start];
                sql.getChars(start, end, chars, 0);
                for (int j = i - start; j < chars.length; j++) {
                    if (chars[j] >= 'A' && chars[j] <= 'Z') {
                        chars[j] = (char) (chars[j] + ('a' - 'A'));
                    }
                }
                return new String(chars);
            }
        }
        return sql.substring(start, end);
    }

    private void add(TokenType type, int start, String value, boolean wellFormed) {
        tokens.add(new Token(type, start, pos, value, wellFormed));
    }

    private char peek(int offset) {
        int index = pos + offset;
        return index < sql.length() ? sql.charAt(index) : '\0';
    }

    /** Block comments nest in PostgreSQL, unlike the SQL standard and most other parsers. */
    private void blockComment(int start) {
        int depth = 0;
        int length = sql.length();
        while (pos < length) {
            if (sql.startsWith("/*", pos)) {
                depth++;
                pos += 2;
            } else if (sql.startsWith("*/", pos)) {
                depth--;
                pos += 2;
                if (depth == 0) {
                    add(TokenType.BLOCK_COMMENT, start, sql.substring(start + 2, pos - 2), true);
                    return;
                }
            } else {
                pos++;
            }
        }
        add(TokenType.BLOCK_COMMENT, start, sql.substring(start + 2), false);
    }

    /** A string constant whose opening quote has been consumed; {@code ''} is a quote. */
    private void quoted(TokenType type, int start, char quote, boolean backslashEscapes) {
        StringBuilder value = new StringBuilder();
        int length = sql.length();
        boolean wellFormed = true;
        while (true) {
            if (pos >= length) {
                add(type, start, value.toString(), false);
                return;
            }
            char c = sql.charAt(pos);
            if (c == quote) {
                if (peek(1) == quote) {
                    value.append(quote);
                    pos += 2;
                    continue;
                }
                pos++;
                add(type, start, value.toString(), wellFormed);
                return;
            }
            if (backslashEscapes && c == '\\') {
                wellFormed &= backslashEscape(value);
                continue;
            }
            value.append(c);
            pos++;
        }
    }

    /** The escapes of {@code E'...'} (PostgreSQL docs 4.1.2.2); returns false on a malformed one. */
    private boolean backslashEscape(StringBuilder value) {
        char next = peek(1);
        pos += 2;
        switch (next) {
            case 'b': value.append('\b'); return true;
            case 'f': value.append('\f'); return true;
            case 'n': value.append('\n'); return true;
            case 'r': value.append('\r'); return true;
            case 't': value.append('\t'); return true;
            case 'x': {
                int digits = countHex(pos, 2);
                if (digits == 0) {
                    value.append('x');
                    return true;
                }
                value.append((char) Integer.parseInt(sql.substring(pos, pos + digits), 16));
                pos += digits;
                return true;
            }
            case 'u':
            case 'U': {
                int wanted = next == 'u' ? 4 : 8;
                if (countHex(pos, wanted) != wanted) {
                    return false;
                }
                long codePoint = Long.parseLong(sql.substring(pos, pos + wanted), 16);
                pos += wanted;
                return appendCodePoint(value, codePoint);
            }
            case '\0':
                if (pos > sql.length()) {
                    pos = sql.length();
                    return false;
                }
                value.append('\0');
                return true;
            default:
                if (next >= '0' && next <= '7') {
                    int octal = next - '0';
                    for (int i = 0; i < 2 && pos < sql.length() && sql.charAt(pos) >= '0' && sql.charAt(pos) <= '7'; i++) {
                        octal = octal * 8 + (sql.charAt(pos) - '0');
                        pos++;
                    }
                    value.append((char) (octal & 0xFF));
                    return true;
                }
                value.append(next);
                return true;
        }
    }

    private int countHex(int from, int max) {
        int count = 0;
        while (count < max && from + count < sql.length() && Character.digit(sql.charAt(from + count), 16) >= 0) {
            count++;
        }
        return count;
    }

    private static boolean appendCodePoint(StringBuilder value, long codePoint) {
        if (codePoint <= 0 || codePoint > Character.MAX_CODE_POINT
                || (codePoint >= Character.MIN_SURROGATE && codePoint <= Character.MAX_SURROGATE)) {
            return false;
        }
        value.appendCodePoint((int) codePoint);
        return true;
    }

    private void unicodeString(int start) {
        int before = tokens.size();
        quoted(TokenType.UNICODE_STRING, start, '\'', false);
        Token raw = tokens.remove(before);
        if (!standardConformingStrings) {
            // The server refuses U&'...' when standard_conforming_strings is off.
            raw = new Token(raw.type(), raw.start(), raw.end(), raw.value(), false);
        }
        finishUnicode(raw, TokenType.UNICODE_STRING, start);
    }

    private void quotedIdentifier(int start, boolean unicode) {
        int before = tokens.size();
        quoted(TokenType.QUOTED_IDENTIFIER, start, '"', false);
        Token raw = tokens.remove(before);
        if (unicode) {
            finishUnicode(raw, TokenType.QUOTED_IDENTIFIER, start);
            return;
        }
        // A zero-length quoted identifier is an error in PostgreSQL.
        boolean wellFormed = raw.wellFormed() && !raw.value().isEmpty();
        tokens.add(new Token(TokenType.QUOTED_IDENTIFIER, start, pos, truncateIdentifier(raw.value()), wellFormed));
    }

    /**
     * Decodes {@code U&'...'} / {@code U&"..."}, after consuming an optional
     * {@code UESCAPE 'c'} clause (PostgreSQL docs 4.1.1 and 4.1.2.3).
     */
    private void finishUnicode(Token raw, TokenType type, int start) {
        char escape = '\\';
        boolean wellFormed = raw.wellFormed();
        if (wellFormed) {
            int save = pos;
            int cursor = skipTrivia(pos);
            if (cursor + 7 <= sql.length() && sql.regionMatches(true, cursor, "UESCAPE", 0, 7)
                    && (cursor + 7 == sql.length() || !isIdentContinue(sql.charAt(cursor + 7)))) {
                cursor = skipTrivia(cursor + 7);
                if (cursor + 2 < sql.length() && sql.charAt(cursor) == '\'' && sql.charAt(cursor + 2) == '\'') {
                    escape = sql.charAt(cursor + 1);
                    pos = cursor + 3;
                    // The escape must not be a hex digit, +, ', ", or white space.
                    if (Character.digit(escape, 16) >= 0 || escape == '+' || escape == '\''
                            || escape == '"' || isWhitespace(escape)) {
                        wellFormed = false;
                    }
                } else {
                    wellFormed = false;
                    pos = Math.max(save, cursor);
                }
            }
        }
        StringBuilder value = new StringBuilder();
        String text = raw.value();
        for (int i = 0; i < text.length(); ) {
            char c = text.charAt(i);
            if (c != escape) {
                value.append(c);
                i++;
            } else if (i + 1 < text.length() && text.charAt(i + 1) == escape) {
                value.append(escape);
                i += 2;
            } else if (i + 1 < text.length() && text.charAt(i + 1) == '+' && hexRun(text, i + 2) >= 6) {
                wellFormed &= appendUnicodeEscape(value, Long.parseLong(text.substring(i + 2, i + 8), 16));
                i += 8;
            } else if (hexRun(text, i + 1) >= 4) {
                wellFormed &= appendUnicodeEscape(value, Long.parseLong(text.substring(i + 1, i + 5), 16));
                i += 5;
            } else {
                wellFormed = false;
                value.append(c);
                i++;
            }
        }
        String decoded = joinSurrogates(value);
        if (decoded == null) {
            wellFormed = false;
            decoded = value.toString();
        }
        if (type == TokenType.QUOTED_IDENTIFIER) {
            wellFormed &= !decoded.isEmpty();
            decoded = truncateIdentifier(decoded);
        }
        tokens.add(new Token(type, start, pos, decoded, wellFormed));
    }

    /** Unicode escapes may spell a surrogate pair as two escapes; they are joined afterwards. */
    private static boolean appendUnicodeEscape(StringBuilder value, long codePoint) {
        if (codePoint >= Character.MIN_SURROGATE && codePoint <= Character.MAX_SURROGATE) {
            value.append((char) codePoint);
            return true;
        }
        return appendCodePoint(value, codePoint);
    }

    private static String joinSurrogates(StringBuilder value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 >= value.length() || !Character.isLowSurrogate(value.charAt(i + 1))) {
                    return null;
                }
                i++;
            } else if (Character.isLowSurrogate(c)) {
                return null;
            }
        }
        return value.toString();
    }

    private static int hexRun(String text, int from) {
        int count = 0;
        while (from + count < text.length() && Character.digit(text.charAt(from + count), 16) >= 0) {
            count++;
        }
        return count;
    }

    private int skipTrivia(int from) {
        int cursor = from;
        while (cursor < sql.length()) {
            char c = sql.charAt(cursor);
            if (isWhitespace(c)) {
                cursor++;
            } else if (c == '-' && cursor + 1 < sql.length() && sql.charAt(cursor + 1) == '-') {
                while (cursor < sql.length() && sql.charAt(cursor) != '\n') {
                    cursor++;
                }
            } else {
                return cursor;
            }
        }
        return cursor;
    }

    /** {@code $1} is a parameter; {@code $tag$} opens a dollar quote; anything else is invalid. */
    private void dollar(int start) {
        if (isDigit(peek(1))) {
            pos++;
            while (pos < sql.length() && isDigit(sql.charAt(pos))) {
                pos++;
            }
            add(TokenType.PARAMETER, start, sql.substring(start, pos), true);
            return;
        }
        int cursor = pos + 1;
        if (cursor < sql.length() && isIdentStart(sql.charAt(cursor))) {
            cursor++;
            while (cursor < sql.length() && isDollarTagContinue(sql.charAt(cursor))) {
                cursor++;
            }
        }
        if (cursor >= sql.length() || sql.charAt(cursor) != '$') {
            pos++;
            add(TokenType.INVALID, start, "$", false);
            return;
        }
        String delimiter = sql.substring(start, cursor + 1);
        int bodyStart = cursor + 1;
        int close = sql.indexOf(delimiter, bodyStart);
        if (close < 0) {
            pos = sql.length();
            add(TokenType.DOLLAR_STRING, start, sql.substring(bodyStart), false);
            return;
        }
        pos = close + delimiter.length();
        add(TokenType.DOLLAR_STRING, start, sql.substring(bodyStart, close), true);
    }

    private void number(int start) {
        int length = sql.length();
        while (pos < length && isDigit(sql.charAt(pos))) {
            pos++;
        }
        // "1..2" is the integer 1 followed by "..", as in scan.l's "integer" before "dot_dot".
        if (pos < length && sql.charAt(pos) == '.' && !(pos + 1 < length && sql.charAt(pos + 1) == '.')) {
            pos++;
            while (pos < length && isDigit(sql.charAt(pos))) {
                pos++;
            }
        }
        if (pos < length && (sql.charAt(pos) == 'e' || sql.charAt(pos) == 'E')) {
            int cursor = pos + 1;
            if (cursor < length && (sql.charAt(cursor) == '+' || sql.charAt(cursor) == '-')) {
                cursor++;
            }
            if (cursor < length && isDigit(sql.charAt(cursor))) {
                pos = cursor;
                while (pos < length && isDigit(sql.charAt(pos))) {
                    pos++;
                }
            }
        }
        add(TokenType.NUMBER, start, sql.substring(start, pos), true);
    }

    /**
     * The longest run of operator characters, cut before an embedded comment start, without a
     * trailing + or - unless the operator contains one of ~!@#^&|`?% (scan.l, rule "operator"),
     * so that {@code a=-1} lexes as {@code =} and {@code -1}.
     */
    private void operator(int start) {
        int end = pos;
        while (end < sql.length() && OPERATOR_CHARS.indexOf(sql.charAt(end)) >= 0) {
            if (end > start && (sql.startsWith("--", end) || sql.startsWith("/*", end))) {
                break;
            }
            end++;
        }
        String text = sql.substring(start, end);
        for (int i = 1; i < text.length(); i++) {
            if (text.startsWith("--", i) || text.startsWith("/*", i)) {
                text = text.substring(0, i);
                break;
            }
        }
        if (text.length() > 1) {
            boolean nonMath = false;
            for (int i = 0; i < text.length(); i++) {
                nonMath |= NON_MATH_OPERATOR_CHARS.indexOf(text.charAt(i)) >= 0;
            }
            if (!nonMath) {
                while (text.length() > 1 && (text.endsWith("+") || text.endsWith("-"))) {
                    text = text.substring(0, text.length() - 1);
                }
            }
        }
        pos = start + text.length();
        add(TokenType.OPERATOR, start, text, true);
    }

    static boolean isWhitespace(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\u000B';
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    static boolean isIdentStart(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
    }

    static boolean isIdentContinue(char c) {
        return isIdentStart(c) || isDigit(c) || c == '$';
    }

    private static boolean isDollarTagContinue(char c) {
        return isIdentStart(c) || isDigit(c);
    }

    /** PostgreSQL folds unquoted identifiers by ASCII rules only in multi-byte encodings (scansup.c). */
    static String foldCase(String word) {
        for (int i = 0; i < word.length(); i++) {
            char c = word.charAt(i);
            if (c >= 'A' && c <= 'Z') {
                char[] chars = word.toCharArray();
                for (int j = i; j < chars.length; j++) {
                    if (chars[j] >= 'A' && chars[j] <= 'Z') {
                        chars[j] = (char) (chars[j] + ('a' - 'A'));
                    }
                }
                return new String(chars);
            }
        }
        return word;
    }

    /**
     * Identifiers longer than 63 bytes are truncated by the server (with only a NOTICE), so
     * {@code payments_<long suffix>} and its truncation name the same table; analysis must agree.
     */
    static String truncateIdentifier(String name) {
        if (name.length() * 3 <= MAX_IDENTIFIER_BYTES
                || name.getBytes(StandardCharsets.UTF_8).length <= MAX_IDENTIFIER_BYTES) {
            return name;
        }
        int bytes = 0;
        int i = 0;
        while (i < name.length()) {
            int codePoint = name.codePointAt(i);
            int size = new String(Character.toChars(codePoint)).getBytes(StandardCharsets.UTF_8).length;
            if (bytes + size > MAX_IDENTIFIER_BYTES) {
                break;
            }
            bytes += size;
            i += Character.charCount(codePoint);
        }
        return name.substring(0, i);
    }
}
