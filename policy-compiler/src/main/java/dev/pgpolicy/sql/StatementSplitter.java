package dev.pgpolicy.sql;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a simple-protocol Query message into statements the way the server does: on semicolons
 * outside parentheses, and not inside the {@code BEGIN ATOMIC ... END} body of a SQL-standard
 * function or procedure (PostgreSQL 14+), where semicolons separate the body's statements.
 * Strings, quoted identifiers, dollar quotes and comments are single tokens, so semicolons in them
 * never split. Statements with no significant token (as in {@code ;;}) are dropped.
 *
 * <p>Splitting too little is safe: the server parses the whole message before running any of
 * it, so an unbalanced parenthesis that swallows a semicolon makes the whole message fail.
 */
public final class StatementSplitter {
    private StatementSplitter() {
    }

    public static List<LexedStatement> split(String message) {
        return split(message, SqlLexer.tokenize(message));
    }

    /** As {@link #split(String)}, lexing strings as a session with this standard_conforming_strings does. */
    public static List<LexedStatement> split(String message, boolean standardConformingStrings) {
        return split(message, SqlLexer.tokenize(message, standardConformingStrings));
    }

    /** @param tokens as {@link SqlLexer#tokenize} returns them: unmodifiable, and nobody changes them */
    static List<LexedStatement> split(String message, List<Token> tokens) {
        List<LexedStatement> statements = new ArrayList<>(2);
        // The current statement is tokens[from, i): cut as a view when it ends, not copied token
        // by token into a list of its own.
        int from = 0;
        Token first = null;
        int parens = 0;
        int atomicDepth = 0;
        boolean routineDefinition = false;
        Token previousWord = null;
        int significantCount = 0;
        for (int i = 0; i < tokens.size(); i++) {
            Token token = tokens.get(i);
            if (token.is(TokenType.SEMICOLON) && parens == 0 && atomicDepth == 0) {
                addIfNotEmpty(statements, message, tokens.subList(from, i));
                from = i + 1;
                first = null;
                parens = 0;
                routineDefinition = false;
                previousWord = null;
                significantCount = 0;
                continue;
            }
            if (token.isTrivia()) {
                continue;
            }
            if (first == null) {
                first = token;
            }
            significantCount++;
            switch (token.type()) {
                case LEFT_PAREN:
                    parens++;
                    break;
                case RIGHT_PAREN:
                    parens = Math.max(0, parens - 1);
                    break;
                case WORD:
                    if (significantCount <= 4 && (token.isWord("function") || token.isWord("procedure"))
                            && first.isWord("create")) {
                        routineDefinition = true;
                    }
                    if (routineDefinition) {
                        if (token.isWord("atomic") && previousWord != null && previousWord.isWord("begin")) {
                            atomicDepth++;
                        } else if (atomicDepth > 0 && token.isWord("case")) {
                            atomicDepth++;
                        } else if (atomicDepth > 0 && token.isWord("end")) {
                            atomicDepth--;
                        }
                    }
                    break;
                default:
                    break;
            }
            previousWord = token;
        }
        addIfNotEmpty(statements, message, from == 0 ? tokens : tokens.subList(from, tokens.size()));
        return statements;
    }

    private static void addIfNotEmpty(List<LexedStatement> statements, String message, List<Token> tokens) {
        LexedStatement statement = new LexedStatement(message, tokens);
        if (!statement.isEmpty()) {
            statements.add(statement);
        }
    }
}
