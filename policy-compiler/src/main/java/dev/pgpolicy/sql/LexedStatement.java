package dev.pgpolicy.sql;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * One statement of a Query message as the lexer cut it: its tokens (comments and white space
 * included, offsets into the whole message) and the significant tokens without them.
 */
public final class LexedStatement {
    private final String message;
    private final List<Token> tokens;
    private final List<Token> significant;
    private final boolean wellFormed;

    /**
     * @param tokens an unmodifiable list that nobody changes (the lexer's, or a view of it): kept
     *     as it is, since copying the tokens of every statement the proxy analyses showed in its
     *     allocation profile
     */
    LexedStatement(String message, List<Token> tokens) {
        this.message = message;
        this.tokens = tokens;
        List<Token> words = new ArrayList<>(this.tokens.size());
        boolean allWellFormed = true;
        for (int i = 0; i < this.tokens.size(); i++) {
            Token token = this.tokens.get(i);
            allWellFormed &= token.wellFormed();
            if (!token.isTrivia()) {
                words.add(token);
            }
        }
        // Read for every statement the proxy analyses: found in the same pass, not in one of its own.
        this.wellFormed = allWellFormed;
        // Wrapped, not copied again: nothing else holds the list.
        this.significant = Collections.unmodifiableList(words);
    }

    /** The statement's tokens including comments and white space, without the closing semicolon. */
    public List<Token> tokens() {
        return tokens;
    }

    /** The tokens without comments and white space. */
    public List<Token> significant() {
        return significant;
    }

    public boolean isEmpty() {
        return significant.isEmpty();
    }

    /** The statement's source text from its first to its last significant token. */
    public String text() {
        if (significant.isEmpty()) {
            return "";
        }
        return message.substring(significant.get(0).start(), significant.get(significant.size() - 1).end());
    }

    /** True when every token is one PostgreSQL's lexer would accept. */
    public boolean wellFormed() {
        return wellFormed;
    }
}
