package dev.pgpolicy.sql;

import java.util.List;
import java.util.Set;

/**
 * Classifies a statement from its leading key words, without the full parser, so that even a
 * statement the parser rejects has a kind the policy can decide on.
 */
public final class StatementClassifier {
    private static final Set<String> QUERY_STARTERS = Set.of("select", "insert", "update", "delete", "merge", "values", "table");
    private static final Set<String> ROLE_OBJECTS = Set.of("role", "user", "group");

    private StatementClassifier() {
    }

    public static StatementKind classify(LexedStatement statement) {
        return classify(statement.significant());
    }

    static StatementKind classify(List<Token> words) {
        if (words.isEmpty()) {
            return StatementKind.EMPTY;
        }
        Token first = words.get(0);
        if (first.is(TokenType.LEFT_PAREN)) {
            // "(SELECT ...) UNION ..." and "(VALUES ...)": a parenthesised query.
            int index = 0;
            while (index < words.size() && words.get(index).is(TokenType.LEFT_PAREN)) {
                index++;
            }
            StatementKind inner = classify(words.subList(index, words.size()));
            return inner == StatementKind.SELECT || inner == StatementKind.VALUES ? StatementKind.SELECT : StatementKind.UNKNOWN;
        }
        if (!first.is(TokenType.WORD)) {
            return StatementKind.UNKNOWN;
        }
        String second = wordAt(words, 1);
        switch (first.value()) {
            case "select":
            case "table":
                return StatementKind.SELECT;
            case "values":
                return StatementKind.VALUES;
            case "insert":
                return StatementKind.INSERT;
            case "update":
                return StatementKind.UPDATE;
            case "delete":
                return StatementKind.DELETE;
            case "merge":
                return StatementKind.MERGE;
            case "truncate":
                return StatementKind.TRUNCATE;
            case "copy":
                return StatementKind.COPY;
            case "with":
                return classifyWith(words);
            case "explain":
                return StatementKind.EXPLAIN;
            case "grant":
            case "revoke":
            case "reassign":
                return StatementKind.DCL;
            case "create":
            case "alter":
            case "drop":
                return classifyDefinition(words);
            case "comment":
            case "security":
            case "import":
                return StatementKind.DDL;
            case "refresh":
            case "vacuum":
            case "analyze":
            case "analyse":
            case "cluster":
            case "reindex":
                return StatementKind.MAINTENANCE;
            case "set":
                return classifySet(words);
            case "reset":
                return "role".equals(second) || "session".equals(second) ? StatementKind.DCL : StatementKind.RESET;
            case "show":
                return StatementKind.SHOW;
            case "begin":
            case "start":
            case "commit":
            case "end":
            case "rollback":
            case "abort":
            case "savepoint":
            case "release":
                return StatementKind.TRANSACTION;
            case "prepare":
                return "transaction".equals(second) ? StatementKind.TRANSACTION : StatementKind.PREPARE;
            case "execute":
                return StatementKind.EXECUTE;
            case "deallocate":
                return StatementKind.DEALLOCATE;
            case "listen":
                return StatementKind.LISTEN;
            case "notify":
                return StatementKind.NOTIFY;
            case "unlisten":
                return StatementKind.UNLISTEN;
            case "lock":
                return StatementKind.LOCK;
            case "do":
                return StatementKind.DO;
            case "call":
                return StatementKind.CALL;
            case "load":
                return StatementKind.LOAD;
            case "discard":
                return StatementKind.DISCARD;
            case "fetch":
            case "move":
                return StatementKind.FETCH;
            case "declare":
                return StatementKind.DECLARE_CURSOR;
            case "close":
                return StatementKind.CLOSE_CURSOR;
            case "checkpoint":
                return StatementKind.CHECKPOINT;
            default:
                return StatementKind.UNKNOWN;
        }
    }

    /** {@code WITH ... <main statement>}: the kind of the first query key word outside parentheses. */
    private static StatementKind classifyWith(List<Token> words) {
        int depth = 0;
        for (int i = 1; i < words.size(); i++) {
            Token token = words.get(i);
            if (token.is(TokenType.LEFT_PAREN)) {
                depth++;
            } else if (token.is(TokenType.RIGHT_PAREN)) {
                depth = Math.max(0, depth - 1);
            } else if (depth == 0 && token.is(TokenType.WORD) && QUERY_STARTERS.contains(token.value())) {
                StatementKind kind = classify(words.subList(i, words.size()));
                return kind == StatementKind.VALUES ? StatementKind.SELECT : kind;
            }
        }
        return StatementKind.UNKNOWN;
    }

    private static StatementKind classifyDefinition(List<Token> words) {
        String verb = words.get(0).value();
        String object = wordAt(words, 1);
        if ("alter".equals(verb) && "system".equals(object)) {
            return StatementKind.ALTER_SYSTEM;
        }
        if (object != null && ROLE_OBJECTS.contains(object)) {
            // CREATE USER MAPPING is DDL on a foreign server, not a role.
            return "user".equals(object) && "mapping".equals(wordAt(words, 2)) ? StatementKind.DDL : StatementKind.DCL;
        }
        if ("alter".equals(verb) && "default".equals(object) && "privileges".equals(wordAt(words, 2))) {
            return StatementKind.DCL;
        }
        if ("drop".equals(verb) && "owned".equals(object)) {
            return StatementKind.DCL;
        }
        return StatementKind.DDL;
    }

    /**
     * SET ROLE and SET SESSION AUTHORIZATION change who the session is, so they are {@code dcl}
     * (LANGUAGE.md, "session"); SET TRANSACTION and SET CONSTRAINTS belong to the transaction.
     */
    private static StatementKind classifySet(List<Token> words) {
        int index = 1;
        String word = wordAt(words, index);
        if ("local".equals(word) || ("session".equals(word) && !"authorization".equals(wordAt(words, 2)))) {
            index++;
            word = wordAt(words, index);
        }
        if (word == null) {
            return StatementKind.SET;
        }
        switch (word) {
            case "role":
                return StatementKind.DCL;
            case "session":
                return "authorization".equals(wordAt(words, index + 1)) ? StatementKind.DCL : StatementKind.SET;
            case "transaction":
            case "constraints":
                return StatementKind.TRANSACTION;
            default:
                return StatementKind.SET;
        }
    }

    static String wordAt(List<Token> words, int index) {
        if (index < words.size() && words.get(index).is(TokenType.WORD)) {
            return words.get(index).value();
        }
        return null;
    }
}
