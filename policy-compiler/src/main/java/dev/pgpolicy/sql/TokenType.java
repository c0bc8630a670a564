package dev.pgpolicy.sql;

/** Token classes of the PostgreSQL lexer (src/backend/parser/scan.l), as far as analysis needs them. */
public enum TokenType {
    /** An unquoted identifier or key word, folded to lower case. */
    WORD,
    /** {@code "name"} or {@code U&"name"}, decoded. */
    QUOTED_IDENTIFIER,
    /** {@code '...'} (standard_conforming_strings on: backslash is an ordinary character). */
    STRING,
    /** {@code E'...'} with C-style backslash escapes. */
    ESCAPE_STRING,
    /** {@code U&'...'} with Unicode escapes. */
    UNICODE_STRING,
    /** {@code $$...$$} or {@code $tag$...$tag$}. */
    DOLLAR_STRING,
    /** {@code B'...'} or {@code X'...'}. */
    BIT_STRING,
    NUMBER,
    /** {@code $1}, {@code $2}, ... */
    PARAMETER,
    OPERATOR,
    /** {@code ::}. */
    CAST,
    LEFT_PAREN,
    RIGHT_PAREN,
    LEFT_BRACKET,
    RIGHT_BRACKET,
    COMMA,
    SEMICOLON,
    DOT,
    /** {@code :} alone, as in array slices {@code a[1:2]}. */
    COLON,
    LINE_COMMENT,
    BLOCK_COMMENT,
    WHITESPACE,
    /** A character PostgreSQL's lexer would reject; the statement is then unparsed. */
    INVALID;

    public boolean isTrivia() {
        return this == WHITESPACE || this == LINE_COMMENT || this == BLOCK_COMMENT;
    }

    public boolean isComment() {
        return this == LINE_COMMENT || this == BLOCK_COMMENT;
    }

    public boolean isStringConstant() {
        return this == STRING || this == ESCAPE_STRING || this == UNICODE_STRING
                || this == DOLLAR_STRING || this == BIT_STRING;
    }

    public boolean isConstant() {
        return isStringConstant() || this == NUMBER;
    }
}
