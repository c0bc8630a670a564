package dev.pgpolicy.sql;

import dev.pgpolicy.sql.CopyOptions.Format;
import dev.pgpolicy.sql.CopyStatement.Endpoint;
import dev.pgpolicy.sql.CopyStatement.UnreadableException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Reads one COPY statement from its significant tokens, following gram.y's {@code CopyStmt} and
 * copy.c's {@code ProcessCopyOptions}:
 *
 * <pre>
 *   COPY [BINARY] table [(column, ...)] FROM|TO [PROGRAM] 'file'|STDIN|STDOUT
 *        [[USING] DELIMITERS 'c'] [WITH] options [WHERE ...]
 *   COPY (query) TO [PROGRAM] 'file'|STDOUT [WITH] options
 *   options:  ( name [value], ... )                                      -- since 9.0
 *          |  BINARY | CSV | HEADER | FREEZE | DELIMITER [AS] 'c' | NULL [AS] 's' | QUOTE [AS] 'c'
 *             | ESCAPE [AS] 'c' | FORCE QUOTE col, ... | FORCE QUOTE * | FORCE NOT NULL col, ...
 *             | FORCE NULL col, ... | ENCODING 'e'                        -- the older spelling
 * </pre>
 *
 * Whatever it does not recognise with certainty is an {@link UnreadableException}, never a guess:
 * a proxy that misread the delimiter would cut rows where the server did not.
 */
final class CopyStatementReader {

    /** gram.y's Sconst: bit strings are constants too, but not strings. */
    private static final Set<TokenType> STRING_TOKENS = EnumSet.of(TokenType.STRING, TokenType.ESCAPE_STRING,
            TokenType.UNICODE_STRING, TokenType.DOLLAR_STRING);

    private final String message;
    private final List<Token> words;
    private int at = 1; // after COPY

    private Format format = Format.TEXT;
    private String delimiter;
    private String nullString;
    private String quote;
    private String escape;
    private boolean header;
    private String encoding;
    private List<String> forceQuote = List.of();
    private final Set<String> seen = new HashSet<>();

    CopyStatementReader(String message, List<Token> words) {
        this.message = message;
        this.words = words;
    }

    CopyStatement read() throws UnreadableException {
        Optional<ObjectName> table = Optional.empty();
        Optional<String> query = Optional.empty();
        List<String> columns = new ArrayList<>();
        if (peekIs(TokenType.LEFT_PAREN)) {
            int close = matchingParen(at);
            if (close < 0 || close == at + 1) {
                throw new UnreadableException("the query of COPY (query) is not closed");
            }
            query = Optional.of(message.substring(words.get(at + 1).start(), words.get(close - 1).end()));
            at = close + 1;
        } else {
            if (optionalWord("binary")) {
                setFormat(Format.BINARY);
            }
            table = Optional.of(name());
            if (peekIs(TokenType.LEFT_PAREN)) {
                at++;
                columns.addAll(identifierList());
                expect(TokenType.RIGHT_PAREN, "the column list");
            }
        }
        boolean from;
        if (optionalWord("from")) {
            from = true;
        } else if (optionalWord("to")) {
            from = false;
        } else {
            throw unreadable("FROM or TO");
        }
        if (query.isPresent() && from) {
            throw new UnreadableException("COPY (query) FROM is not valid");
        }
        Endpoint endpoint = Endpoint.CLIENT;
        if (optionalWord("program")) {
            endpoint = Endpoint.PROGRAM;
            stringConstant("the program");
        } else if (peek() != null && peek().isStringConstant()) {
            endpoint = Endpoint.FILE;
            stringConstant("the file name");
        } else if (!optionalWord(from ? "stdin" : "stdout")) {
            throw unreadable(from ? "STDIN or a file name" : "STDOUT or a file name");
        }
        if (table.isPresent()) {
            // copy_delimiter: [USING] DELIMITERS 'c', the spelling of PostgreSQL 7.
            boolean using = optionalWord("using");
            if (optionalWord("delimiters")) {
                setDelimiter(stringConstant("DELIMITERS"));
            } else if (using) {
                throw unreadable("DELIMITERS after USING");
            }
        }
        optionalWord("with");
        if (peekIs(TokenType.LEFT_PAREN)) {
            at++;
            genericOptions();
        } else {
            oldStyleOptions();
        }
        if (!done()) {
            if (from && peek().isWord("where")) {
                at = words.size(); // COPY FROM's row filter: no bearing on the data format
            } else {
                throw unreadable("the end of the statement");
            }
        }
        return new CopyStatement(table, columns, query, from, endpoint, options());
    }

    // ---------------------------------------------------------------- options

    /** {@code ( name [value], ... )}. */
    private void genericOptions() throws UnreadableException {
        do {
            Token nameToken = peek();
            if (nameToken == null || !nameToken.is(TokenType.WORD)) {
                throw unreadable("a COPY option name");
            }
            at++;
            String name = nameToken.value();
            switch (name) {
                case "format": {
                    String value = stringOrWord("FORMAT");
                    switch (value) {
                        case "text" -> setFormat(Format.TEXT);
                        case "csv" -> setFormat(Format.CSV);
                        case "binary" -> setFormat(Format.BINARY);
                        default -> throw new UnreadableException("COPY format \"" + value + "\" not recognized");
                    }
                    break;
                }
                case "delimiter":
                    setDelimiter(stringConstant("DELIMITER"));
                    break;
                case "null":
                    setNull(stringConstant("NULL"));
                    break;
                case "quote":
                    setQuote(stringConstant("QUOTE"));
                    break;
                case "escape":
                    setEscape(stringConstant("ESCAPE"));
                    break;
                case "header":
                    setHeader(optionalBoolean("HEADER", true));
                    break;
                case "encoding":
                    setEncoding(stringConstant("ENCODING"));
                    break;
                case "force_quote":
                    setForceQuote(starOrParenthesisedList("FORCE_QUOTE"));
                    break;
                case "freeze":
                    once(name);
                    optionalBoolean("FREEZE", false);
                    break;
                case "force_not_null":
                case "force_null":
                    once(name);
                    starOrParenthesisedList(name.toUpperCase(Locale.ROOT));
                    break;
                case "default":
                case "on_error":
                case "log_verbosity":
                case "reject_limit":
                    // COPY FROM only (PostgreSQL 16 and 17): no bearing on the output format.
                    once(name);
                    skipArgument();
                    break;
                default:
                    throw new UnreadableException("COPY option \"" + name + "\" not recognized");
            }
            if (peekIs(TokenType.RIGHT_PAREN)) {
                at++;
                return;
            }
        } while (optional(TokenType.COMMA));
        throw unreadable("a comma or the closing parenthesis of the options");
    }

    private void oldStyleOptions() throws UnreadableException {
        while (!done() && !peek().isWord("where")) {
            if (optionalWord("binary")) {
                setFormat(Format.BINARY);
            } else if (optionalWord("csv")) {
                setFormat(Format.CSV);
            } else if (optionalWord("header")) {
                setHeader(true);
            } else if (optionalWord("freeze")) {
                once("freeze");
            } else if (optionalWord("delimiter")) {
                optionalWord("as");
                setDelimiter(stringConstant("DELIMITER"));
            } else if (optionalWord("null")) {
                optionalWord("as");
                setNull(stringConstant("NULL"));
            } else if (optionalWord("quote")) {
                optionalWord("as");
                setQuote(stringConstant("QUOTE"));
            } else if (optionalWord("escape")) {
                optionalWord("as");
                setEscape(stringConstant("ESCAPE"));
            } else if (optionalWord("encoding")) {
                setEncoding(stringConstant("ENCODING"));
            } else if (optionalWord("force")) {
                if (optionalWord("quote")) {
                    setForceQuote(starOrList());
                } else if (optionalWord("not")) {
                    if (!optionalWord("null")) {
                        throw unreadable("NULL after FORCE NOT");
                    }
                    once("force_not_null");
                    starOrList();
                } else if (optionalWord("null")) {
                    once("force_null");
                    starOrList();
                } else {
                    throw unreadable("QUOTE, NOT NULL or NULL after FORCE");
                }
            } else {
                throw unreadable("a COPY option");
            }
        }
    }

    private CopyOptions options() throws UnreadableException {
        CopyOptions defaults = CopyOptions.defaults(format);
        CopyOptions options = new CopyOptions(format,
                delimiter != null ? delimiter : defaults.delimiter(),
                nullString != null ? nullString : defaults.nullString(),
                quote != null ? quote : defaults.quote(),
                escape != null ? escape : (quote != null ? quote : defaults.escape()),
                header, Optional.ofNullable(encoding), forceQuote);
        if (format == Format.BINARY) {
            return options;
        }
        // copy.c checks the same before running; a statement it refuses never sends data.
        singleAsciiCharacter("DELIMITER", options.delimiter());
        if (format == Format.CSV) {
            singleAsciiCharacter("QUOTE", options.quote());
            singleAsciiCharacter("ESCAPE", options.escape());
            if (options.delimiter().equals(options.quote())) {
                throw new UnreadableException("COPY delimiter and quote must be different");
            }
        } else if (quote != null || escape != null || !forceQuote.isEmpty()) {
            throw new UnreadableException("QUOTE, ESCAPE and FORCE_QUOTE are available only in CSV mode");
        }
        char d = options.delimiter().charAt(0);
        if (d == '\r' || d == '\n' || (format == Format.TEXT && (d == '\\' || Character.isLetterOrDigit(d)
                || d == '.'))) {
            throw new UnreadableException("COPY delimiter cannot be \"" + d + "\" in " + format + " format");
        }
        if (options.nullString().indexOf('\r') >= 0 || options.nullString().indexOf('\n') >= 0) {
            throw new UnreadableException("COPY null representation cannot use newline or carriage return");
        }
        return options;
    }

    private static void singleAsciiCharacter(String option, String value) throws UnreadableException {
        if (value.length() != 1 || value.charAt(0) >= 0x80) {
            throw new UnreadableException("COPY " + option + " must be a single one-byte character");
        }
    }

    private void once(String option) throws UnreadableException {
        if (!seen.add(option)) {
            throw new UnreadableException("COPY option " + option + " given more than once");
        }
    }

    private void setFormat(Format value) throws UnreadableException {
        once("format");
        format = value;
    }

    private void setDelimiter(String value) throws UnreadableException {
        once("delimiter");
        delimiter = value;
    }

    private void setNull(String value) throws UnreadableException {
        once("null");
        nullString = value;
    }

    private void setQuote(String value) throws UnreadableException {
        once("quote");
        quote = value;
    }

    private void setEscape(String value) throws UnreadableException {
        once("escape");
        escape = value;
    }

    private void setHeader(boolean value) throws UnreadableException {
        once("header");
        header = value;
    }

    private void setEncoding(String value) throws UnreadableException {
        once("encoding");
        encoding = value;
    }

    private void setForceQuote(List<String> columns) throws UnreadableException {
        once("force_quote");
        forceQuote = List.copyOf(columns);
    }

    /** copy.c's defGetBoolean: no value is true; true/false/on/off, 1/0; HEADER also takes MATCH (COPY FROM). */
    private boolean optionalBoolean(String option, boolean matchAllowed) throws UnreadableException {
        Token token = peek();
        if (token == null || token.is(TokenType.COMMA) || token.is(TokenType.RIGHT_PAREN)) {
            return true;
        }
        at++;
        String value = token.is(TokenType.NUMBER) ? token.value()
                : token.is(TokenType.WORD) || isString(token) ? token.value().toLowerCase(Locale.ROOT) : null;
        if (value == null) {
            throw new UnreadableException(option + " requires a Boolean value");
        }
        switch (value) {
            case "true", "on", "1":
                return true;
            case "false", "off", "0":
                return false;
            case "match":
                if (matchAllowed) {
                    return true;
                }
                break;
            default:
                break;
        }
        throw new UnreadableException(option + " requires a Boolean value");
    }

    /** {@code *} or {@code (name, ...)} of the option list. */
    private List<String> starOrParenthesisedList(String option) throws UnreadableException {
        if (optionalStar()) {
            return List.of("*");
        }
        if (!optional(TokenType.LEFT_PAREN)) {
            throw unreadable("* or a parenthesised column list after " + option);
        }
        List<String> names = identifierOrStringList();
        expect(TokenType.RIGHT_PAREN, option);
        return names;
    }

    /** {@code *} or {@code name, ...} of the older option spelling. */
    private List<String> starOrList() throws UnreadableException {
        if (optionalStar()) {
            return List.of("*");
        }
        return identifierList();
    }

    private boolean optionalStar() {
        Token token = peek();
        if (token != null && token.is(TokenType.OPERATOR) && token.value().equals("*")) {
            at++;
            return true;
        }
        return false;
    }

    /** An option value the output format does not depend on: a word, constant, {@code *} or parenthesised list. */
    private void skipArgument() throws UnreadableException {
        Token token = peek();
        if (token == null || token.is(TokenType.COMMA) || token.is(TokenType.RIGHT_PAREN)) {
            return;
        }
        if (token.is(TokenType.LEFT_PAREN)) {
            int close = matchingParen(at);
            if (close < 0) {
                throw unreadable("a closing parenthesis");
            }
            at = close + 1;
            return;
        }
        if (token.is(TokenType.WORD) || token.is(TokenType.NUMBER) || isString(token)
                || token.is(TokenType.OPERATOR) && (token.value().equals("*") || token.value().equals("-"))) {
            at++;
            if (token.is(TokenType.OPERATOR) && token.value().equals("-") && peekIs(TokenType.NUMBER)) {
                at++;
            }
            return;
        }
        throw unreadable("an option value");
    }

    // ---------------------------------------------------------------- tokens

    private Token peek() {
        return at < words.size() ? words.get(at) : null;
    }

    private boolean peekIs(TokenType type) {
        Token token = peek();
        return token != null && token.is(type);
    }

    private boolean done() {
        return at >= words.size();
    }

    private boolean optionalWord(String word) {
        Token token = peek();
        if (token != null && token.isWord(word)) {
            at++;
            return true;
        }
        return false;
    }

    private boolean optional(TokenType type) {
        if (peekIs(type)) {
            at++;
            return true;
        }
        return false;
    }

    private void expect(TokenType type, String where) throws UnreadableException {
        if (!optional(type)) {
            throw unreadable(type.name().toLowerCase(Locale.ROOT).replace('_', ' ') + " to end " + where);
        }
    }

    private static boolean isString(Token token) {
        return STRING_TOKENS.contains(token.type());
    }

    private String stringConstant(String what) throws UnreadableException {
        Token token = peek();
        if (token == null || !isString(token)) {
            throw unreadable("a string constant for " + what);
        }
        at++;
        return token.value();
    }

    private String stringOrWord(String what) throws UnreadableException {
        Token token = peek();
        if (token == null || !(isString(token) || token.is(TokenType.WORD))) {
            throw unreadable("a value for " + what);
        }
        at++;
        return token.value();
    }

    private boolean isIdentifier(Token token) {
        return token != null && (token.is(TokenType.WORD) || token.is(TokenType.QUOTED_IDENTIFIER));
    }

    private List<String> identifierList() throws UnreadableException {
        List<String> names = new ArrayList<>();
        do {
            if (!isIdentifier(peek())) {
                throw unreadable("a column name");
            }
            names.add(peek().value());
            at++;
        } while (optional(TokenType.COMMA));
        return names;
    }

    private List<String> identifierOrStringList() throws UnreadableException {
        List<String> names = new ArrayList<>();
        do {
            Token token = peek();
            if (!isIdentifier(token) && (token == null || !isString(token))) {
                throw unreadable("a column name");
            }
            names.add(token.value());
            at++;
        } while (optional(TokenType.COMMA));
        return names;
    }

    /** {@code [[catalog.]schema.]table}. */
    private ObjectName name() throws UnreadableException {
        List<String> parts = new ArrayList<>();
        if (!isIdentifier(peek())) {
            throw unreadable("a table name");
        }
        parts.add(peek().value());
        at++;
        while (peekIs(TokenType.DOT) && at + 1 < words.size() && isIdentifier(words.get(at + 1))) {
            parts.add(words.get(at + 1).value());
            at += 2;
        }
        if (parts.size() > 3) {
            throw new UnreadableException("improper qualified name (too many dotted names)");
        }
        String relation = parts.get(parts.size() - 1);
        String schema = parts.size() >= 2 ? parts.get(parts.size() - 2) : null;
        return new ObjectName(schema, relation);
    }

    private int matchingParen(int open) {
        return Token.matchingParen(words, open);
    }

    private UnreadableException unreadable(String expected) {
        Token token = peek();
        return new UnreadableException("expected " + expected + " at "
                + (token == null ? "the end of the COPY statement" : "\"" + message.substring(token.start(), token.end()) + "\""));
    }
}
