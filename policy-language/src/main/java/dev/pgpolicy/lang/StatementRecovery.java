package dev.pgpolicy.lang;

import java.util.Set;
import org.antlr.v4.runtime.DefaultErrorStrategy;
import org.antlr.v4.runtime.Parser;
import org.antlr.v4.runtime.ParserRuleContext;
import org.antlr.v4.runtime.RecognitionException;
import org.antlr.v4.runtime.Token;
import org.antlr.v4.runtime.TokenStream;

/**
 * ANTLR's default recovery, adapted so that one mistake costs one statement and never the rest
 * of the file.
 *
 * <ul>
 * <li>It never deletes a {@code ;}. Most keywords may also be names, so deleting the terminator of
 *     a broken statement would let the parser read the next statement's first word as part of the
 *     broken one, turning one mistake into two and hiding the second statement.</li>
 * <li>Between statements (and between tests, and between the steps of a test), a token that cannot
 *     start one is reported and skipped up to the next {@code ;} or the next token that can start
 *     one. The default strategy would instead leave the statement loop and discard everything up to
 *     the end of the file.</li>
 * </ul>
 */
final class StatementRecovery extends DefaultErrorStrategy {

    private static final Set<Integer> STATEMENT_START = Set.of(
            PolicyGrammarLexer.AT, PolicyGrammarLexer.ALLOW, PolicyGrammarLexer.DENY, PolicyGrammarLexer.MASK,
            PolicyGrammarLexer.ROLE, PolicyGrammarLexer.LIMIT, PolicyGrammarLexer.GUARD, PolicyGrammarLexer.AUDIT,
            PolicyGrammarLexer.MODE);
    private static final Set<Integer> TEST_START = Set.of(PolicyGrammarLexer.TEST);
    private static final Set<Integer> STEP_START = Set.of(
            PolicyGrammarLexer.AS, PolicyGrammarLexer.QUERY, PolicyGrammarLexer.EXPECT, PolicyGrammarLexer.RBRACE);

    @Override
    protected Token singleTokenDeletion(Parser recognizer) {
        int next = recognizer.getInputStream().LA(1);
        if (next == PolicyGrammarLexer.SEMI || next == PolicyGrammarLexer.RBRACE) {
            return null;
        }
        return super.singleTokenDeletion(recognizer);
    }

    @Override
    public void sync(Parser recognizer) throws RecognitionException {
        ParserRuleContext context = recognizer.getContext();
        if (context instanceof PolicyGrammarParser.PolicyFileContext) {
            skipUntil(recognizer, STATEMENT_START, true, "a statement (role, allow, deny, mask, limit, guard, audit or mode)");
        } else if (context instanceof PolicyGrammarParser.TestFileContext) {
            skipUntil(recognizer, TEST_START, false, "test");
        } else if (context instanceof PolicyGrammarParser.TestCaseContext
                && recognizer.getInputStream().LA(1) != PolicyGrammarLexer.LBRACE
                && context.getChildCount() > 2) {
            skipUntil(recognizer, STEP_START, true, "as, query, expect or '}'");
        } else {
            super.sync(recognizer);
        }
    }

    private void skipUntil(Parser recognizer, Set<Integer> starts, boolean stopAfterSemicolon, String expected) {
        TokenStream tokens = recognizer.getInputStream();
        while (tokens.LA(1) != Token.EOF && !starts.contains(tokens.LA(1))) {
            Token offending = recognizer.getCurrentToken();
            recognizer.notifyErrorListeners(offending, SyntaxErrorListener.EXPECTED_PREFIX + expected, null);
            while (tokens.LA(1) != Token.EOF && !starts.contains(tokens.LA(1))) {
                int type = tokens.LA(1);
                recognizer.consume();
                if (stopAfterSemicolon && type == PolicyGrammarLexer.SEMI) {
                    break;
                }
            }
        }
    }
}
