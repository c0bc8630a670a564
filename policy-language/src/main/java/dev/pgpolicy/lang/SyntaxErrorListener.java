package dev.pgpolicy.lang;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.antlr.v4.runtime.BaseErrorListener;
import org.antlr.v4.runtime.CommonTokenStream;
import org.antlr.v4.runtime.Parser;
import org.antlr.v4.runtime.RecognitionException;
import org.antlr.v4.runtime.Recognizer;
import org.antlr.v4.runtime.Token;
import org.antlr.v4.runtime.Vocabulary;
import org.antlr.v4.runtime.misc.IntervalSet;
import org.antlr.v4.runtime.misc.ParseCancellationException;

/**
 * Turns ANTLR's syntax errors into diagnostics a policy author can act on, and reports one error
 * per statement: after an error, further errors up to the next {@code ;} are the parser's
 * recovery echoing the same mistake and would only bury the next real one.
 */
final class SyntaxErrorListener extends BaseErrorListener {

    /** Marks a message from {@link StatementRecovery} that already says what was expected. */
    static final String EXPECTED_PREFIX = "expected:";

    /** A file with this many syntax errors is not worth reading further; the rest would be noise. */
    static final int MAX_ERRORS = 100;

    /** Beyond this many alternatives a list of expected tokens stops helping. */
    private static final int MAX_EXPECTED_SHOWN = 6;

    /** The tokens of the grammar's {@code ident} rule besides IDENT. */
    private static final Set<Integer> SOFT_KEYWORDS = Set.of(
            PolicyGrammarLexer.ROLE, PolicyGrammarLexer.ALLOW, PolicyGrammarLexer.DENY, PolicyGrammarLexer.MASK,
            PolicyGrammarLexer.LIMIT, PolicyGrammarLexer.GUARD, PolicyGrammarLexer.AUDIT, PolicyGrammarLexer.MODE,
            PolicyGrammarLexer.ON, PolicyGrammarLexer.WHEN, PolicyGrammarLexer.UNLESS, PolicyGrammarLexer.WITH,
            PolicyGrammarLexer.TABLE, PolicyGrammarLexer.COLUMN, PolicyGrammarLexer.FUNCTION, PolicyGrammarLexer.SCHEMA,
            PolicyGrammarLexer.DATABASE, PolicyGrammarLexer.PER, PolicyGrammarLexer.QUERIES,
            PolicyGrammarLexer.CONCURRENT, PolicyGrammarLexer.CONNECTIONS, PolicyGrammarLexer.ROWS,
            PolicyGrammarLexer.SECOND, PolicyGrammarLexer.STATEMENT_TIMEOUT, PolicyGrammarLexer.IDLE,
            PolicyGrammarLexer.IDLE_IN_TRANSACTION, PolicyGrammarLexer.TEST, PolicyGrammarLexer.AS,
            PolicyGrammarLexer.QUERY, PolicyGrammarLexer.EXPECT, PolicyGrammarLexer.BY, PolicyGrammarLexer.WARN);

    private final String fileName;
    private final CommonTokenStream tokens;
    private final List<Diagnostic> diagnostics;
    private int suppressUntilTokenIndex = -1;
    private int reported;

    SyntaxErrorListener(String fileName, CommonTokenStream tokens, List<Diagnostic> diagnostics) {
        this.fileName = fileName;
        this.tokens = tokens;
        this.diagnostics = diagnostics;
    }

    @Override
    public void syntaxError(Recognizer<?, ?> recognizer, Object offendingSymbol, int line,
                            int charPositionInLine, String antlrMessage, RecognitionException e) {
        Token token = offendingSymbol instanceof Token t ? t : null;
        int tokenIndex = token == null ? -1 : token.getTokenIndex();
        if (tokenIndex >= 0 && tokenIndex <= suppressUntilTokenIndex) {
            return;
        }
        suppressUntilTokenIndex = nextTerminator(tokenIndex);
        String message = antlrMessage != null && antlrMessage.startsWith(EXPECTED_PREFIX)
                ? found(token) + "; expected " + antlrMessage.substring(EXPECTED_PREFIX.length())
                : describe(recognizer, token);
        diagnostics.add(Diagnostic.error(new Span(fileName, line, charPositionInLine + 1), message));
        if (++reported >= MAX_ERRORS) {
            diagnostics.add(Diagnostic.error(new Span(fileName, line, charPositionInLine + 1),
                    "too many syntax errors; the rest of the file is not checked"));
            throw new ParseCancellationException("too many syntax errors");
        }
    }

    private int nextTerminator(int from) {
        if (from < 0) {
            return -1;
        }
        List<Token> all = tokens.getTokens();
        for (int i = from; i < all.size(); i++) {
            int type = all.get(i).getType();
            if (type == PolicyGrammarLexer.SEMI || type == Token.EOF) {
                return i;
            }
        }
        return all.size();
    }

    private static String describe(Recognizer<?, ?> recognizer, Token token) {
        if (token == null) {
            return "syntax error";
        }
        switch (token.getType()) {
            case PolicyGrammarLexer.ERROR_CHAR:
                return "unexpected character " + quote(token.getText());
            case PolicyGrammarLexer.UNTERMINATED_STRING:
                return "unterminated string: a closing \" is missing";
            case PolicyGrammarLexer.UNTERMINATED_COMMENT:
                return "unterminated comment: a closing */ is missing";
            default:
                break;
        }
        String found = found(token);
        String expected = expected(recognizer);
        return expected.isEmpty() ? found : found + "; expected " + expected;
    }

    private static String found(Token token) {
        switch (token.getType()) {
            case Token.EOF:
                return "unexpected end of file";
            case PolicyGrammarLexer.ERROR_CHAR:
                return "unexpected character " + quote(token.getText());
            case PolicyGrammarLexer.UNTERMINATED_STRING:
                return "unterminated string: a closing \" is missing";
            case PolicyGrammarLexer.UNTERMINATED_COMMENT:
                return "unterminated comment: a closing */ is missing";
            default:
                return "unexpected " + quote(token.getText());
        }
    }

    private static String expected(Recognizer<?, ?> recognizer) {
        if (!(recognizer instanceof Parser parser)) {
            return "";
        }
        IntervalSet expected;
        try {
            expected = parser.getExpectedTokens();
        } catch (RuntimeException e) {
            return "";
        }
        List<Integer> types = new ArrayList<>(expected.toList());
        if (types.contains(PolicyGrammarLexer.IDENT)) {
            // Keywords that may serve as names are implied by "a name"; listing them buries the point.
            types.removeIf(SOFT_KEYWORDS::contains);
        }
        if (types.contains(PolicyGrammarLexer.NOT) && types.contains(PolicyGrammarLexer.LPAREN)) {
            return "a condition";
        }
        if (types.contains(PolicyGrammarLexer.IDENT) && types.contains(PolicyGrammarLexer.INT)
                && types.contains(PolicyGrammarLexer.IPV4)) {
            return "a value";
        }
        if (types.isEmpty() || types.size() > MAX_EXPECTED_SHOWN) {
            return "";
        }
        Vocabulary vocabulary = parser.getVocabulary();
        List<String> names = new ArrayList<>();
        for (int type : types) {
            names.add(tokenName(vocabulary, type));
        }
        if (names.size() == 1) {
            return names.get(0);
        }
        return String.join(", ", names.subList(0, names.size() - 1)) + " or " + names.get(names.size() - 1);
    }

    private static String tokenName(Vocabulary vocabulary, int type) {
        switch (type) {
            case Token.EOF: return "end of file";
            case PolicyGrammarLexer.IDENT: return "a name";
            case PolicyGrammarLexer.STRING: return "a string";
            case PolicyGrammarLexer.INT: return "a number";
            case PolicyGrammarLexer.DURATION: return "a duration such as 30s";
            case PolicyGrammarLexer.IPV4: return "an IPv4 address";
            case PolicyGrammarLexer.IPV6: return "an IPv6 address";
            case PolicyGrammarLexer.GLOB: return "a name pattern";
            default:
                String literal = vocabulary.getLiteralName(type);
                return literal != null ? literal : vocabulary.getDisplayName(type);
        }
    }

    private static String quote(String text) {
        if (text == null) {
            return "''";
        }
        String shown = text.length() > 40 ? text.substring(0, 40) + "..." : text;
        return "'" + shown.replace("\n", "\\n").replace("\r", "\\r") + "'";
    }
}
