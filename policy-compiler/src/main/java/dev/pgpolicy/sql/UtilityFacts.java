package dev.pgpolicy.sql;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Facts of the statements JSqlParser does not model the PostgreSQL way (COPY, DDL, maintenance,
 * LOCK, TRUNCATE, GRANT, EXPLAIN, PREPARE, DECLARE, CALL, ...), read from the lexer's tokens.
 * Each method returns true only when it understood the statement's whole shape; anything else is
 * unparsed. Queries embedded in these statements ({@code COPY (query)}, {@code EXPLAIN query},
 * {@code CREATE TABLE ... AS query}, ...) go back to the analyser for full analysis.
 */
final class UtilityFacts {
    /** Analyses an embedded statement into the same facts; returns whether it was understood. */
    interface Nested {
        boolean collect(List<Token> words, FactsBuilder facts);
    }

    private static final Set<String> RELATION_KINDS = Set.of("table", "view", "sequence", "index");
    private static final Set<String> TABLE_MODIFIERS = Set.of("global", "local", "temp", "temporary", "unlogged",
            "recursive", "unique");
    private static final Set<String> QUERY_STARTERS = Set.of("select", "with", "values", "table", "insert", "update",
            "delete", "merge", "execute");

    private final List<Token> words;
    private final FactsBuilder facts;
    private final Nested nested;
    private int at;

    private UtilityFacts(List<Token> words, FactsBuilder facts, Nested nested) {
        this.words = words;
        this.facts = facts;
        this.nested = nested;
    }

    static boolean collect(StatementKind kind, List<Token> words, FactsBuilder facts, Nested nested) {
        return new UtilityFacts(words, facts, nested).run(kind);
    }

    private boolean run(StatementKind kind) {
        at = 1;
        switch (kind) {
            case TRUNCATE:
                optional("table");
                return relationList(Action.TRUNCATE, Set.of("restart", "continue", "cascade", "restrict"))
                        && onlyWords(Set.of("restart", "continue", "identity", "cascade", "restrict"));
            case LOCK:
                optional("table");
                return relationList(Action.LOCK, Set.of("in", "nowait")) && skipRest();
            case MAINTENANCE:
                return maintenance();
            case COPY:
                return copy();
            case EXPLAIN:
                skipParenthesised();
                while (optional("analyze") || optional("analyse") || optional("verbose")) {
                    // Old-style options, before the parenthesised list existed.
                }
                return nestedStatement(at);
            case PREPARE:
                return prepare();
            case DECLARE_CURSOR:
                return declare();
            case CALL:
                return call();
            case DDL:
                return ddl();
            case DCL:
                return dcl();
            case SHOW:
                String setting = StatementClassifier.wordAt(words, 1);
                if (setting != null && HeuristicRules.SENSITIVE_SETTINGS.contains(setting)) {
                    facts.finding(Heuristic.CATALOG_PROBE);
                }
                return true;
            case DO:
            case SET:
            case RESET:
            case TRANSACTION:
            case LISTEN:
            case NOTIFY:
            case UNLISTEN:
            case ALTER_SYSTEM:
            case LOAD:
            case DISCARD:
            case EXECUTE:
            case DEALLOCATE:
            case FETCH:
            case CLOSE_CURSOR:
            case CHECKPOINT:
                return true;
            case EMPTY:
            case UNKNOWN:
            case SELECT:
            case INSERT:
            case UPDATE:
            case DELETE:
            case MERGE:
            case VALUES:
                return false;
        }
        throw new AssertionError(kind);
    }

    // ---------------------------------------------------------------- cursor

    private Token peek() {
        return at < words.size() ? words.get(at) : null;
    }

    private boolean peekWord(String word) {
        Token token = peek();
        return token != null && token.isWord(word);
    }

    private boolean optional(String word) {
        if (peekWord(word)) {
            at++;
            return true;
        }
        return false;
    }

    private boolean optional(String first, String second) {
        if (peekWord(first) && at + 1 < words.size() && words.get(at + 1).isWord(second)) {
            at += 2;
            return true;
        }
        return false;
    }

    private boolean done() {
        return at >= words.size();
    }

    private boolean onlyWords(Set<String> allowed) {
        for (; at < words.size(); at++) {
            if (!words.get(at).is(TokenType.WORD) || !allowed.contains(words.get(at).value())) {
                return false;
            }
        }
        return true;
    }

    private boolean skipRest() {
        at = words.size();
        return true;
    }

    private boolean isIdentifier(Token token) {
        return token != null && (token.is(TokenType.WORD) || token.is(TokenType.QUOTED_IDENTIFIER));
    }

    /** {@code name[.name[.name]]}; returns null when the tokens are not a name. */
    private ObjectName name() {
        List<String> parts = new ArrayList<>();
        if (!isIdentifier(peek())) {
            return null;
        }
        parts.add(peek().value());
        at++;
        while (at + 1 < words.size() && words.get(at).is(TokenType.DOT) && isIdentifier(words.get(at + 1))) {
            parts.add(words.get(at + 1).value());
            at += 2;
        }
        if (parts.size() > 3) {
            return null;
        }
        String relation = parts.get(parts.size() - 1);
        String schema = parts.size() >= 2 ? parts.get(parts.size() - 2) : null;
        return new ObjectName(schema, relation);
    }

    /** Skips a balanced parenthesised group at the cursor, if there is one; returns its end or -1. */
    private int skipParenthesised() {
        if (peek() == null || !peek().is(TokenType.LEFT_PAREN)) {
            return -1;
        }
        int close = matchingParen(at);
        if (close < 0) {
            at = words.size();
            return -1;
        }
        at = close + 1;
        return close;
    }

    private int matchingParen(int open) {
        return Token.matchingParen(words, open);
    }

    /** {@code [ONLY] name [*] [, ...]} up to one of the stop words or the end. */
    private boolean relationList(Action action, Set<String> stopWords) {
        boolean any = false;
        while (!done()) {
            Token token = peek();
            if (token.is(TokenType.WORD) && stopWords.contains(token.value())) {
                break;
            }
            optional("only");
            ObjectName name = name();
            if (name == null) {
                return false;
            }
            facts.table(name, action);
            any = true;
            if (peek() != null && peek().is(TokenType.OPERATOR) && peek().value().equals("*")) {
                at++;
            }
            if (peek() != null && peek().is(TokenType.COMMA)) {
                at++;
                continue;
            }
            break;
        }
        return any;
    }

    // ---------------------------------------------------------------- statements

    private boolean maintenance() {
        String verb = words.get(0).value();
        switch (verb) {
            case "refresh":
                if (!optional("materialized") || !optional("view")) {
                    return false;
                }
                optional("concurrently");
                return single(Action.MAINTENANCE) && skipRest();
            case "vacuum":
            case "analyze":
            case "analyse": {
                skipParenthesised();
                while (optional("full") || optional("freeze") || optional("verbose") || optional("analyze")
                        || optional("analyse")) {
                    // Old-style options.
                }
                while (!done()) {
                    ObjectName name = name();
                    if (name == null) {
                        return false;
                    }
                    facts.table(name, Action.MAINTENANCE);
                    skipParenthesised();
                    if (peek() != null && peek().is(TokenType.COMMA)) {
                        at++;
                    } else {
                        break;
                    }
                }
                return done();
            }
            case "cluster":
                skipParenthesised();
                optional("verbose");
                if (done()) {
                    return true;
                }
                if (!single(Action.MAINTENANCE)) {
                    return false;
                }
                if (optional("using")) {
                    return name() != null && done();
                }
                return done();
            case "reindex": {
                skipParenthesised();
                Token object = peek();
                if (object == null || !object.is(TokenType.WORD)) {
                    return false;
                }
                at++;
                optional("concurrently");
                if (object.isWord("table") || object.isWord("index")) {
                    return single(Action.MAINTENANCE) && done();
                }
                return object.isWord("schema") || object.isWord("database") || object.isWord("system");
            }
            default:
                return false;
        }
    }

    private boolean single(Action action) {
        optional("only");
        ObjectName name = name();
        if (name == null) {
            return false;
        }
        facts.table(name, action);
        return true;
    }

    /**
     * COPY (PostgreSQL docs, COPY): {@code COPY table [(columns)] FROM|TO ...} or
     * {@code COPY (query) TO ...}. LANGUAGE.md: TO is copy_out, FROM is copy_in, PROGRAM adds
     * copy_program; {@code COPY (query) TO} is copy_out on every table the query reads, besides
     * the query's own requests. A server file name is a file_access finding.
     */
    private boolean copy() {
        List<ObjectName> targets = new ArrayList<>();
        List<String> columns = new ArrayList<>();
        boolean query = false;
        if (peek() != null && peek().is(TokenType.LEFT_PAREN)) {
            int close = matchingParen(at);
            if (close < 0 || !nested.collect(words.subList(at + 1, close), facts)) {
                return false;
            }
            at = close + 1;
            query = true;
            targets.addAll(facts.tablesTouched());
        } else {
            optional("binary");
            ObjectName table = name();
            if (table == null) {
                return false;
            }
            targets.add(table);
            if (peek() != null && peek().is(TokenType.LEFT_PAREN)) {
                int close = matchingParen(at);
                if (close < 0) {
                    return false;
                }
                for (int i = at + 1; i < close; i++) {
                    Token token = words.get(i);
                    if (isIdentifier(token)) {
                        columns.add(token.value());
                    } else if (!token.is(TokenType.COMMA)) {
                        return false;
                    }
                }
                at = close + 1;
            }
        }
        boolean from;
        if (optional("from")) {
            from = true;
        } else if (optional("to")) {
            from = false;
        } else {
            return false;
        }
        if (query && from) {
            return false;
        }
        boolean program = optional("program");
        Token source = peek();
        if (source == null) {
            return false;
        }
        if (program) {
            facts.finding(Heuristic.PROGRAM_EXEC);
        } else if (source.isStringConstant()) {
            facts.finding(Heuristic.FILE_ACCESS);
        } else if (!source.isWord("stdin") && !source.isWord("stdout")) {
            return false;
        }
        at++;
        Action action = from ? Action.COPY_IN : Action.COPY_OUT;
        for (ObjectName target : targets) {
            facts.table(target, action);
            if (program) {
                facts.table(target, Action.COPY_PROGRAM);
            }
        }
        if (!query) {
            for (String column : columns) {
                facts.column(targets.get(0), column, Clause.PROJECTION, false);
            }
        }
        // The options ([WITH] (FORMAT csv, ...) or the old key words) name no objects; a WHERE
        // clause on COPY FROM (PostgreSQL 12+) filters rows and is not analysed, so refuse it.
        for (int i = at; i < words.size(); i++) {
            if (words.get(i).isWord("where")) {
                return false;
            }
        }
        return true;
    }

    /** The statement starting at {@code from}, analysed as a statement of its own. */
    private boolean nestedStatement(int from) {
        if (from >= words.size()) {
            return false;
        }
        return nested.collect(words.subList(from, words.size()), facts);
    }

    /** {@code PREPARE name [(types)] AS statement}. */
    private boolean prepare() {
        if (!isIdentifier(peek())) {
            return false;
        }
        at++;
        skipParenthesised();
        if (!optional("as")) {
            return false;
        }
        return nestedStatement(at);
    }

    /** {@code DECLARE name [options] CURSOR [WITH[OUT] HOLD] FOR query}. */
    private boolean declare() {
        for (int i = at; i < words.size(); i++) {
            if (words.get(i).isWord("for") && i > 0 && (words.get(i - 1).isWord("cursor") || words.get(i - 1).isWord("hold"))) {
                return nestedStatement(i + 1);
            }
        }
        return false;
    }

    /** {@code CALL proc(args)} is analysed as {@code SELECT proc(args)}: the same names and subqueries. */
    private boolean call() {
        List<Token> rewritten = new ArrayList<>(words.size());
        Token call = words.get(0);
        rewritten.add(new Token(TokenType.WORD, call.start(), call.end(), "select", true));
        rewritten.addAll(words.subList(1, words.size()));
        return nested.collect(rewritten, facts);
    }

    private boolean ddl() {
        String verb = words.get(0).value();
        switch (verb) {
            case "create":
                return create();
            case "alter":
                return alter();
            case "drop":
                return drop();
            case "comment":
                if (!optional("on")) {
                    return false;
                }
                return commentTarget() && skipRest();
            case "security":
                if (!optional("label")) {
                    return false;
                }
                if (optional("for")) {
                    at++;
                }
                return optional("on") && commentTarget() && skipRest();
            case "import":
                return true;
            default:
                return false;
        }
    }

    private boolean create() {
        optional("or", "replace");
        while (peek() != null && peek().is(TokenType.WORD) && TABLE_MODIFIERS.contains(peek().value())) {
            at++;
        }
        Token object = peek();
        if (object == null || !object.is(TokenType.WORD)) {
            return false;
        }
        at++;
        switch (object.value()) {
            case "table":
            case "view":
            case "sequence":
                optional("if", "not");
                optional("exists");
                return createRelation();
            case "materialized":
            case "foreign":
                if (!optional(object.isWord("materialized") ? "view" : "table")) {
                    return object.isWord("foreign");
                }
                optional("if", "not");
                optional("exists");
                return createRelation();
            case "index":
                return onTable("on");
            case "trigger":
            case "policy":
                return onTable("on");
            case "constraint":
                return optional("trigger") && onTable("on");
            case "rule":
                return onTable("to");
            case "statistics":
                return onTable("from");
            default:
                // Functions, procedures, schemas, types, roles, extensions, ...: no table is the
                // object; the ddl action itself is what the policy decides on.
                return true;
        }
    }

    /** After {@code CREATE TABLE|VIEW|...}: the name, then an optional {@code AS query} or PARTITION OF. */
    private boolean createRelation() {
        ObjectName name = name();
        if (name == null) {
            return false;
        }
        facts.table(name, Action.DDL);
        int depth = 0;
        for (int i = at; i < words.size(); i++) {
            Token token = words.get(i);
            if (token.is(TokenType.LEFT_PAREN)) {
                depth++;
            } else if (token.is(TokenType.RIGHT_PAREN)) {
                depth--;
            } else if (depth == 0 && token.isWord("of") && i > 0 && words.get(i - 1).isWord("partition")) {
                at = i + 1;
                ObjectName parent = name();
                if (parent == null) {
                    return false;
                }
                facts.table(parent, Action.DDL);
                return true;
            } else if (depth == 0 && token.isWord("as") && i + 1 < words.size()
                    && (QUERY_STARTERS.contains(words.get(i + 1).value()) && words.get(i + 1).is(TokenType.WORD)
                    || words.get(i + 1).is(TokenType.LEFT_PAREN))) {
                return nested.collect(stripTrailingOptions(words.subList(i + 1, words.size())), facts);
            }
        }
        return true;
    }

    /** Removes {@code WITH [NO] DATA} and {@code WITH [CASCADED|LOCAL] CHECK OPTION} after a view or table query. */
    private static List<Token> stripTrailingOptions(List<Token> query) {
        int end = query.size();
        if (end >= 2 && query.get(end - 1).isWord("data")) {
            int with = query.get(end - 2).isWord("no") ? end - 3 : end - 2;
            if (with >= 0 && query.get(with).isWord("with")) {
                end = with;
            }
        } else if (end >= 3 && query.get(end - 1).isWord("option") && query.get(end - 2).isWord("check")) {
            int with = end - 3;
            if (with >= 0 && (query.get(with).isWord("cascaded") || query.get(with).isWord("local"))) {
                with--;
            }
            if (with >= 0 && query.get(with).isWord("with")) {
                end = with;
            }
        }
        return query.subList(0, end);
    }

    /** Skips to the first {@code keyword} outside parentheses and records the relation after it. */
    private boolean onTable(String keyword) {
        int depth = 0;
        for (int i = at; i < words.size(); i++) {
            Token token = words.get(i);
            if (token.is(TokenType.LEFT_PAREN)) {
                depth++;
            } else if (token.is(TokenType.RIGHT_PAREN)) {
                depth--;
            } else if (depth == 0 && token.isWord(keyword)) {
                at = i + 1;
                return single(Action.DDL);
            }
        }
        return false;
    }

    private boolean alter() {
        Token object = peek();
        if (object == null || !object.is(TokenType.WORD)) {
            return false;
        }
        at++;
        switch (object.value()) {
            case "table":
            case "view":
            case "sequence":
            case "index":
                if (peekWord("all")) {
                    // ALTER TABLE ALL IN TABLESPACE ... moves every table: no single object to name.
                    return false;
                }
                optional("if");
                optional("exists");
                return single(Action.DDL) && skipRest();
            case "materialized":
            case "foreign":
                if (!optional(object.isWord("materialized") ? "view" : "table")) {
                    return object.isWord("foreign");
                }
                if (peekWord("all")) {
                    return false;
                }
                optional("if");
                optional("exists");
                return single(Action.DDL) && skipRest();
            case "trigger":
            case "policy":
            case "rule":
                return onTable("on") && skipRest();
            default:
                return true;
        }
    }

    private boolean drop() {
        Token object = peek();
        if (object == null || !object.is(TokenType.WORD)) {
            return false;
        }
        at++;
        switch (object.value()) {
            case "table":
            case "view":
            case "sequence":
            case "index":
                optional("concurrently");
                break;
            case "materialized":
            case "foreign":
                if (!optional(object.isWord("materialized") ? "view" : "table")) {
                    return object.isWord("foreign");
                }
                break;
            case "trigger":
            case "policy":
            case "rule":
                return onTable("on") && skipRest();
            default:
                return true;
        }
        optional("if");
        optional("exists");
        return relationList(Action.DDL, Set.of("cascade", "restrict")) && skipRest();
    }

    /** The object of COMMENT ON / SECURITY LABEL ON. */
    private boolean commentTarget() {
        Token object = peek();
        if (object == null || !object.is(TokenType.WORD)) {
            return false;
        }
        at++;
        if (object.isWord("materialized") || object.isWord("foreign")) {
            object = peek();
            at++;
        }
        if (object == null) {
            return false;
        }
        if (RELATION_KINDS.contains(object.value())) {
            return single(Action.DDL);
        }
        if (object.isWord("column")) {
            int start = at;
            ObjectName column = name();
            if (column == null || column.schema() == null) {
                return false;
            }
            // rel.col or schema.rel.col: drop the column part.
            List<String> parts = new ArrayList<>();
            for (int i = start; i < at; i++) {
                if (isIdentifier(words.get(i))) {
                    parts.add(words.get(i).value());
                }
            }
            String relation = parts.get(parts.size() - 2);
            String schema = parts.size() >= 3 ? parts.get(parts.size() - 3) : null;
            facts.table(new ObjectName(schema, relation), Action.DDL);
            return true;
        }
        if (object.isWord("trigger") || object.isWord("policy") || object.isWord("rule") || object.isWord("constraint")) {
            return onTable("on");
        }
        return true;
    }

    /** GRANT/REVOKE on tables records each table with the dcl action; role grants name no table. */
    private boolean dcl() {
        String verb = words.get(0).value();
        if (!verb.equals("grant") && !verb.equals("revoke")) {
            return true;
        }
        int depth = 0;
        for (int i = 1; i < words.size(); i++) {
            Token token = words.get(i);
            if (token.is(TokenType.LEFT_PAREN)) {
                depth++;
            } else if (token.is(TokenType.RIGHT_PAREN)) {
                depth--;
            } else if (depth == 0 && token.isWord("on")) {
                at = i + 1;
                if (optional("table") || optional("sequence")) {
                    return relationList(Action.DCL, Set.of("to", "from"));
                }
                if (peekWord("all") || peekWord("schema") || peekWord("function") || peekWord("procedure")
                        || peekWord("routine") || peekWord("database") || peekWord("domain") || peekWord("type")
                        || peekWord("language") || peekWord("large") || peekWord("foreign") || peekWord("tablespace")
                        || peekWord("parameter")) {
                    return true;
                }
                return relationList(Action.DCL, Set.of("to", "from"));
            }
        }
        return true;
    }
}
