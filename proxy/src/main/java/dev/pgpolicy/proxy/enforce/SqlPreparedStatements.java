package dev.pgpolicy.proxy.enforce;

import dev.pgpolicy.proxy.session.InFlightRequest;
import dev.pgpolicy.sql.LexedStatement;
import dev.pgpolicy.sql.StatementSplitter;
import dev.pgpolicy.sql.Token;
import dev.pgpolicy.sql.TokenType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The statements one session prepared with SQL {@code PREPARE}, by name, as the server confirmed
 * them. PostgreSQL keeps SQL-prepared and protocol-prepared statements in one namespace, so a
 * client can {@code PREPARE del AS DELETE ...} once and then run it any number of times with a
 * protocol Bind naming {@code del}, or with {@code EXECUTE del(...)}: the proxy needs the text
 * behind the name to decide and record every execution.
 *
 * <pre>
 *   Query / Execute forwarded  ──► forwarded(): the names it may change are unsettled
 *   CommandComplete "PREPARE"  ──► the k-th PREPARE of that request ran: its name now means its text
 *   "DEALLOCATE"               ──► the k-th DEALLOCATE ran: its name means nothing
 *   "DEALLOCATE ALL", "DISCARD ALL" ──► no name means anything
 *   session idle (ReadyForQuery, nothing in flight) ──► settle(): nothing is unsettled
 * </pre>
 *
 * Only the server's answer changes what a name means, never the request: a PREPARE that fails
 * (a duplicate name, a syntax error) adds nothing, and PREPARE and DEALLOCATE are not
 * transactional, so a later error in the same Query or transaction does not undo them. While a
 * change is in flight its names are unsettled: the proxy cannot know yet whether it will run, so
 * a Bind or EXECUTE of such a name is refused rather than decided on a text the server may no
 * longer hold. Statements prepared where the proxy cannot see them (inside a DO block or a
 * function) have no text here: binding or executing them is refused.
 *
 * <p>Thread-safe: the event loop reports completions and reads names; decision workers and the
 * audit writer (which completes the gates of fail_closed statements) report forwarded changes.
 */
final class SqlPreparedStatements {

    /** What one statement of a Query or Parse does with the session's prepared statements. */
    sealed interface Command permits Prepare, Deallocate, DeallocateAll, DiscardAll, Execute, Unreadable {
    }

    /** {@code PREPARE name [(types)] AS statement}: {@code text} is the statement. */
    record Prepare(String name, String text) implements Command {
    }

    /** {@code DEALLOCATE [PREPARE] name}. */
    record Deallocate(String name) implements Command {
    }

    /** {@code DEALLOCATE [PREPARE] ALL}. */
    record DeallocateAll() implements Command {
    }

    /** {@code DISCARD ALL}, which drops every prepared statement among the rest. */
    record DiscardAll() implements Command {
    }

    /** {@code EXECUTE name [(args)]}, also after {@code EXPLAIN [options]} and in {@code CREATE TABLE ... AS}. */
    record Execute(String name) implements Command {
    }

    /** A PREPARE, DEALLOCATE or EXECUTE whose name this reader cannot tell: treated as touching every name. */
    record Unreadable(String keyword) implements Command {
    }

    /** What a name means to the proxy now. */
    enum Status {
        /** A PREPARE the server completed gave it {@link Lookup#text()}. */
        KNOWN,
        /** No PREPARE the proxy saw completed under this name, or a DEALLOCATE removed it. */
        UNKNOWN,
        /** A forwarded PREPARE, DEALLOCATE or DISCARD may change it and has not been answered yet. */
        UNSETTLED
    }

    record Lookup(Status status, String text) {
        static final Lookup UNKNOWN = new Lookup(Status.UNKNOWN, null);
        static final Lookup UNSETTLED = new Lookup(Status.UNSETTLED, null);
    }

    /** Prepared statements remembered per session; beyond it all are forgotten (see {@link #completed}). */
    private static final int REMEMBERED = 4096;

    private final Map<String, String> texts = new HashMap<>();
    private final Set<String> unsettled = new HashSet<>();
    private boolean everythingUnsettled;
    /** The request whose completions are being counted, its commands, and how many of each kind completed. */
    private InFlightRequest counting;
    private List<Command> countingCommands = List.of();
    private int preparesCompleted;
    private int deallocatesCompleted;

    // ------------------------------------------------------------------ reading statements

    /**
     * Whether {@code tag} (a CommandComplete tag) reports a change of the prepared statements;
     * cheap, so that other completions cost nothing more.
     */
    static boolean changesStatements(String tag) {
        return tag.equals("PREPARE") || tag.startsWith("DEALLOCATE") || tag.equals("DISCARD ALL");
    }

    /**
     * The commands among the statements of {@code sql} that create, drop or run prepared
     * statements, in order; statements that do none of these are left out.
     */
    static List<Command> commands(String sql, boolean standardConformingStrings) {
        List<Command> commands = new ArrayList<>();
        for (LexedStatement statement : StatementSplitter.split(sql, standardConformingStrings)) {
            Command command = command(sql, statement.significant());
            if (command != null) {
                commands.add(command);
            }
        }
        return commands;
    }

    private static Command command(String sql, List<Token> words) {
        if (words.isEmpty()) {
            return null;
        }
        Token first = words.get(0);
        if (first.isWord("prepare")) {
            if (words.size() > 1 && words.get(1).isWord("transaction")) {
                return null; // two-phase commit, not a prepared statement
            }
            return prepare(sql, words);
        }
        if (first.isWord("deallocate")) {
            int at = words.size() > 1 && words.get(1).isWord("prepare") ? 2 : 1;
            if (at == words.size() - 1 && words.get(at).isWord("all")) {
                return new DeallocateAll();
            }
            String name = at == words.size() - 1 ? name(words.get(at)) : null;
            return name == null ? new Unreadable("DEALLOCATE") : new Deallocate(name);
        }
        if (first.isWord("discard")) {
            return words.size() == 2 && words.get(1).isWord("all") ? new DiscardAll() : null;
        }
        if (first.isWord("execute")) {
            return execute(words, 1);
        }
        if (first.isWord("explain")) {
            int at = 1;
            if (at < words.size() && words.get(at).is(TokenType.LEFT_PAREN)) {
                at = closingParen(words, at) + 1;
                if (at == 0) {
                    return null; // unbalanced: the server refuses the statement
                }
            }
            while (at < words.size() && (words.get(at).isWord("analyze") || words.get(at).isWord("analyse")
                    || words.get(at).isWord("verbose"))) {
                at++;
            }
            return at < words.size() && words.get(at).isWord("execute") ? execute(words, at + 1) : null;
        }
        if (first.isWord("create")) {
            // CREATE [TEMP] TABLE name AS EXECUTE name [(args)]: runs the prepared statement.
            for (int i = 1; i + 1 < words.size(); i++) {
                if (words.get(i).isWord("as") && words.get(i + 1).isWord("execute")) {
                    return execute(words, i + 2);
                }
            }
        }
        return null;
    }

    /** {@code PREPARE name [(type, ...)] AS statement}. */
    private static Command prepare(String sql, List<Token> words) {
        String name = words.size() > 1 ? name(words.get(1)) : null;
        int at = 2;
        if (at < words.size() && words.get(at).is(TokenType.LEFT_PAREN)) {
            at = closingParen(words, at) + 1;
            if (at == 0) {
                return new Unreadable("PREPARE");
            }
        }
        if (name == null || at + 1 >= words.size() || !words.get(at).isWord("as")) {
            return new Unreadable("PREPARE");
        }
        return new Prepare(name, sql.substring(words.get(at + 1).start(), words.get(words.size() - 1).end()));
    }

    private static Command execute(List<Token> words, int at) {
        String name = at < words.size() ? name(words.get(at)) : null;
        return name == null ? new Unreadable("EXECUTE") : new Execute(name);
    }

    /** A statement name as the server folds it: an unquoted word in lower case, a quoted identifier as written. */
    private static String name(Token token) {
        if (token.is(TokenType.WORD) || token.is(TokenType.QUOTED_IDENTIFIER) && token.wellFormed()) {
            return token.value();
        }
        return null;
    }

    private static int closingParen(List<Token> words, int open) {
        int depth = 0;
        for (int i = open; i < words.size(); i++) {
            if (words.get(i).is(TokenType.LEFT_PAREN)) {
                depth++;
            } else if (words.get(i).is(TokenType.RIGHT_PAREN) && --depth == 0) {
                return i;
            }
        }
        return -1;
    }

    // ------------------------------------------------------------------ following the session

    /** A request holding {@code commands} was allowed and goes upstream: the names it may change are unsettled. */
    synchronized void forwarded(List<Command> commands) {
        for (Command command : commands) {
            if (command instanceof Prepare prepare) {
                unsettled.add(prepare.name());
            } else if (command instanceof Deallocate deallocate) {
                unsettled.add(deallocate.name());
            } else if (command instanceof DeallocateAll || command instanceof DiscardAll
                    || command instanceof Unreadable unreadable && !unreadable.keyword().equals("EXECUTE")) {
                everythingUnsettled = true;
            }
            // An EXECUTE changes no name.
        }
    }

    /**
     * The server completed a statement of {@code request} (a simple Query, or the Execute of a
     * portal) with {@code tag}, one that {@link #changesStatements} accepts. Decisions taken
     * earlier under a name it changes are removed from {@code decisions}.
     */
    synchronized void completed(InFlightRequest request, String tag, boolean standardConformingStrings,
            Map<String, ?> decisions) {
        if (counting != request) {
            counting = request;
            countingCommands = request.sql().map(sql -> commands(sql, standardConformingStrings)).orElse(List.of());
            preparesCompleted = 0;
            deallocatesCompleted = 0;
        }
        switch (tag) {
            case "PREPARE" -> {
                Command command = nth(countingCommands, preparesCompleted++, "PREPARE");
                if (command instanceof Prepare prepare) {
                    if (texts.size() >= REMEMBERED && !texts.containsKey(prepare.name())) {
                        // More names than any client keeps: forgetting them all refuses their
                        // executions (fail closed) instead of growing without bound.
                        texts.clear();
                    }
                    texts.put(prepare.name(), prepare.text());
                    decisions.remove(prepare.name());
                }
                // Otherwise a PREPARE this reader could not name: its name stays unknown, so
                // binding or executing it is refused.
            }
            case "DEALLOCATE" -> {
                Command command = nth(countingCommands, deallocatesCompleted++, "DEALLOCATE");
                if (command instanceof Deallocate deallocate) {
                    texts.remove(deallocate.name());
                    decisions.remove(deallocate.name());
                } else {
                    forgetAll(decisions); // some name was dropped, and which one is not known
                }
            }
            default -> forgetAll(decisions); // DEALLOCATE ALL, DISCARD ALL
        }
    }

    private void forgetAll(Map<String, ?> decisions) {
        texts.clear();
        decisions.clear();
    }

    /** The {@code n}-th command that completes with {@code tag}: PREPAREs or named DEALLOCATEs, readable or not. */
    private static Command nth(List<Command> commands, int n, String tag) {
        int seen = 0;
        for (Command command : commands) {
            boolean matches = tag.equals("PREPARE")
                    ? command instanceof Prepare || command instanceof Unreadable u && u.keyword().equals("PREPARE")
                    : command instanceof Deallocate || command instanceof Unreadable u && u.keyword().equals("DEALLOCATE");
            if (matches && seen++ == n) {
                return command;
            }
        }
        return null;
    }

    /** Nothing is in flight in the session any more: every change sent has been answered. */
    synchronized void settle() {
        unsettled.clear();
        everythingUnsettled = false;
    }

    synchronized Lookup lookup(String name) {
        if (everythingUnsettled || unsettled.contains(name)) {
            return Lookup.UNSETTLED;
        }
        String text = texts.get(name);
        return text == null ? Lookup.UNKNOWN : new Lookup(Status.KNOWN, text);
    }

}
