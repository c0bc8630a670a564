package dev.pgpolicy.lang;

import org.antlr.v4.runtime.DefaultErrorStrategy;
import org.antlr.v4.runtime.Parser;
import org.antlr.v4.runtime.Token;

/**
 * ANTLR's default recovery, except that it never deletes a {@code ;}. Because most keywords may
 * also be names, deleting the terminator of a broken statement would let the parser read the
 * next statement's first word as part of the broken one, turning one mistake into two and
 * hiding the second statement. Keeping the {@code ;} confines every error to its statement.
 */
final class StatementRecovery extends DefaultErrorStrategy {

    @Override
    protected Token singleTokenDeletion(Parser recognizer) {
        int next = recognizer.getInputStream().LA(1);
        if (next == PolicyGrammarLexer.SEMI || next == PolicyGrammarLexer.RBRACE) {
            return null;
        }
        return super.singleTokenDeletion(recognizer);
    }
}
