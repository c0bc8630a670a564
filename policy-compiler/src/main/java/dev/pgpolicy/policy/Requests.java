package dev.pgpolicy.policy;

import dev.pgpolicy.lang.ResourceKind;
import dev.pgpolicy.sql.Action;
import dev.pgpolicy.sql.Clause;
import dev.pgpolicy.sql.ColumnUse;
import dev.pgpolicy.sql.ObjectName;
import dev.pgpolicy.sql.StatementFacts;
import dev.pgpolicy.sql.StatementKind;
import dev.pgpolicy.sql.TableAccess;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Turns a statement's facts into requests (LANGUAGE.md, "How a message becomes decisions"):
 * one per table with its action, one {@code call} per function, one {@code filter} per filter
 * column, one per column a table action uses (deny-only, so column rules can target it), and one
 * object-less request for the statement kinds that act on the session rather than on objects.
 *
 * <p>The facts' statement kind for {@code SET ROLE}, {@code SET SESSION AUTHORIZATION} and their
 * {@code RESET} forms is {@code SET}, but they change the identity the server checks privileges
 * against, so they are {@code dcl}; {@code SET TRANSACTION} is {@code transaction}. Both are told
 * apart here from the normalized text, whose keywords the analyser keeps.
 */
final class Requests {

    private static final Pattern ROLE_CHANGE = Pattern.compile(
            "^(?:SET|RESET)\\s+(?:(?:SESSION|LOCAL)\\s+)?(?:ROLE|SESSION\\s+AUTHORIZATION)\\b",
            Pattern.CASE_INSENSITIVE);
    private static final Pattern SET_TRANSACTION = Pattern.compile(
            "^SET\\s+(?:SESSION\\s+CHARACTERISTICS\\s+AS\\s+)?TRANSACTION\\b", Pattern.CASE_INSENSITIVE);
    private static final Pattern LEADING_NOISE = Pattern.compile("^(?:\\s+|--[^\\n]*\\n?|/\\*.*?\\*/)+", Pattern.DOTALL);

    private Requests() {
    }

    static List<Request> of(StatementFacts facts, NameResolver resolver) {
        List<Request> requests = new ArrayList<>();
        boolean analysed = facts.parsed() && facts.kind() != StatementKind.UNKNOWN;
        Action kindAction = kindAction(facts);

        if (!analysed) {
            // The parser could not analyse it: the statement needs an allow for `unparsed`, and
            // whatever the lexer saw can still meet a deny, but cannot earn an allow.
            requests.add(new Request(Action.UNPARSED, ResourceKind.DATABASE, null, null, true));
            if (kindAction != null && kindAction != Action.UNPARSED) {
                requests.add(new Request(kindAction, ResourceKind.DATABASE, null, null, false));
            }
        }

        List<ResolvedName> tables = new ArrayList<>();
        for (TableAccess access : facts.tables()) {
            ResolvedName table = resolver.relation(access.table());
            tables.add(table);
            requests.add(new Request(access.action(), ResourceKind.TABLE, table, null, analysed));
        }
        for (ObjectName function : facts.functions()) {
            requests.add(new Request(Action.CALL, ResourceKind.FUNCTION, resolver.function(function), null, analysed));
        }
        for (ColumnUse use : facts.columns()) {
            Set<ResolvedName> owners = new LinkedHashSet<>();
            if (use.table() != null) {
                owners.add(resolver.relation(use.table()));
            } else {
                // The analyser could not attribute the column: it may belong to any table here.
                owners.addAll(tables);
            }
            for (ResolvedName owner : owners) {
                if (use.clause() == Clause.FILTER) {
                    requests.add(new Request(Action.FILTER, ResourceKind.COLUMN, owner, use.column(), false));
                }
                for (int i = 0; i < tables.size(); i++) {
                    if (tables.get(i).equals(owner)) {
                        requests.add(new Request(facts.tables().get(i).action(), ResourceKind.COLUMN, owner,
                                use.column(), false));
                    }
                }
            }
        }

        if (analysed && kindAction != null && needsObjectlessRequest(kindAction, facts)) {
            requests.add(new Request(kindAction, ResourceKind.DATABASE, null, null, true));
        }
        return dedupe(requests);
    }

    /**
     * Session-level kinds always get their request; object kinds only when the analyser found no
     * object for them ({@code CREATE SCHEMA}, {@code VACUUM} without a table).
     */
    private static boolean needsObjectlessRequest(Action action, StatementFacts facts) {
        switch (action) {
            case SET: case SHOW: case TRANSACTION: case LISTEN: case NOTIFY: case DISCARD: case DO:
            case LOAD: case ALTER_SYSTEM: case PREPARE: case DCL: case EXPLAIN:
                return true;
            case CALL:
                return facts.functions().isEmpty();
            default:
                for (TableAccess access : facts.tables()) {
                    if (access.action() == action) {
                        return false;
                    }
                }
                return true;
        }
    }

    /** The action of the statement kind itself, or null for kinds whose requests all come from objects. */
    static Action kindAction(StatementFacts facts) {
        switch (facts.kind()) {
            case SELECT: case VALUES: case COPY: case EMPTY:
                return null;
            case INSERT: return Action.INSERT;
            case UPDATE: return Action.UPDATE;
            case DELETE: return Action.DELETE;
            case MERGE: return Action.MERGE;
            case TRUNCATE: return Action.TRUNCATE;
            case DDL: return Action.DDL;
            case DCL: return Action.DCL;
            case CALL: return Action.CALL;
            case DO: return Action.DO;
            case SET:
            case RESET: {
                String text = LEADING_NOISE.matcher(facts.normalized()).replaceFirst("");
                if (ROLE_CHANGE.matcher(text).lookingAt()) {
                    return Action.DCL;
                }
                if (SET_TRANSACTION.matcher(text).lookingAt()) {
                    return Action.TRANSACTION;
                }
                return Action.SET;
            }
            case SHOW: return Action.SHOW;
            case TRANSACTION: return Action.TRANSACTION;
            case LISTEN: case UNLISTEN: return Action.LISTEN;
            case NOTIFY: return Action.NOTIFY;
            case MAINTENANCE: case CHECKPOINT: return Action.MAINTENANCE;
            case ALTER_SYSTEM: return Action.ALTER_SYSTEM;
            case LOAD: return Action.LOAD;
            case DISCARD: return Action.DISCARD;
            case EXPLAIN: return Action.EXPLAIN;
            case LOCK: return Action.LOCK;
            // Prepared statements and cursors: their query was decided when it was prepared or
            // declared; running, fetching and releasing them is session housekeeping.
            case PREPARE: case EXECUTE: case DEALLOCATE: case FETCH: case CLOSE_CURSOR: case DECLARE_CURSOR:
                return Action.PREPARE;
            case UNKNOWN: return Action.UNPARSED;
            default:
                throw new AssertionError("unhandled statement kind " + facts.kind());
        }
    }

    private static List<Request> dedupe(List<Request> requests) {
        return List.copyOf(new LinkedHashSet<>(requests));
    }
}
