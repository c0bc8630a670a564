package dev.pgpolicy.sql;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import net.sf.jsqlparser.parser.ParserKeywordsUtils;

/**
 * The facts of the common OLTP statement shapes, read straight from the lexer's tokens on the
 * calling thread, without JSqlParser and without the hand-off to the parser executor:
 *
 * <pre>
 * SELECT items [FROM [schema.]table [[AS] alias] [WHERE condition] [ORDER BY keys] [LIMIT n] [OFFSET n]
 *        [FOR UPDATE | FOR SHARE [NOWAIT | SKIP LOCKED]]]
 * INSERT INTO [schema.]table [AS alias] [(columns)] VALUES (values) [, (values)]... [RETURNING items]
 * UPDATE [schema.]table [[AS] alias] SET column = value [, ...] [WHERE condition] [RETURNING items]
 * DELETE FROM [schema.]table [[AS] alias] [WHERE condition] [RETURNING items]
 * </pre>
 *
 * where items are {@code *}, {@code alias.*}, columns and constants (each with an optional
 * {@code AS name}); a value is columns, constants ({@code 'text'} and numbers), {@code $n}, NULL,
 * TRUE, FALSE, DEFAULT, CURRENT_TIMESTAMP and CURRENT_DATE joined by {@code + - * / % ||}; a
 * condition combines comparisons, {@code [NOT] IN (values)}, {@code [NOT] BETWEEN},
 * {@code IS [NOT] NULL} and {@code [NOT] LIKE|ILIKE} with AND, OR, NOT and parentheses.
 *
 * <p>Contract: {@link #analyze} returns facts that equal, record for record, what the full path
 * (ParserInput, JSqlParser, QueryFactsCollector) produces for the same statement, or nothing;
 * the caller then takes the full path. It answers only where that equality is certain and
 * declines everything else: function calls, subqueries, joins and FROM lists, CTEs, casts,
 * set operations, any word it does not expect (every PostgreSQL key word other than the
 * unreserved ones, and every word JSqlParser reserves in that position, is refused as a name), identifiers outside
 * {@code [a-z_][a-z0-9_]*}, strings other than plain {@code '...'}, catalog relations, a comment
 * right after a literal, and an OR branch the tautology heuristic could flag. Declining is always
 * safe; answering wrongly would hide a table or column from the policy, so the tests compare the
 * two paths over the accuracy corpus, generated statements and random mutations.
 */
public final class SimpleStatementAnalyzer {
    /**
     * PostgreSQL key words that are reserved, or usable as column names but not as function or
     * type names, or the other way round (pg_get_keywords() categories R, C and T, PostgreSQL
     * 15). Unreserved key words are identifiers wherever this analyser reads a name, except the
     * few listed in {@link #CLAUSE_WORDS}.
     */
    private static final String POSTGRES_KEY_WORDS = """
            all analyse analyze and any array as asc asymmetric authorization between bigint binary bit boolean
            both case cast char character check coalesce collate collation column concurrently constraint
            create cross current_catalog current_date current_role current_schema current_time
            current_timestamp current_user dec decimal default deferrable desc distinct do else end except
            exists extract false fetch float for foreign freeze from full grant greatest group grouping having
            ilike in initially inner inout int integer intersect interval into is isnull join lateral leading
            least left like limit localtime localtimestamp national natural nchar none normalize not notnull
            null nullif numeric offset on only or order out outer overlaps overlay placing position precision
            primary real references returning right row select session_user setof similar smallint some
            substring symmetric table tablesample then time timestamp to trailing treat trim true union unique
            user using values varchar variadic verbose when where window with xmlattributes xmlconcat
            xmlelement xmlexists xmlforest xmlnamespaces xmlparse xmlpi xmlroot xmlserialize xmltable
            """;

    /**
     * The unreserved PostgreSQL key words (category U). They are names wherever this analyser
     * reads one, except as an alias without AS: after a table, a word that some SQL dialect
     * gives a meaning there could be read as a clause by JSqlParser.
     */
    private static final String UNRESERVED_KEY_WORDS = """
            abort absolute access action add admin after aggregate also alter always asensitive assertion
            assignment at atomic attach attribute backward before begin breadth by cache call called cascade
            cascaded catalog chain characteristics checkpoint class close cluster columns comment comments
            commit committed compression configuration conflict connection constraints content continue
            conversion copy cost csv cube current cursor cycle data database day deallocate declare defaults
            deferred definer delete delimiter delimiters depends depth detach dictionary disable discard
            document domain double drop each enable encoding encrypted enum escape event exclude excluding
            exclusive execute explain expression extension external family filter finalize first following
            force forward function functions generated global granted groups handler header hold hour identity
            if immediate immutable implicit import include including increment index indexes inherit inherits
            inline input insensitive insert instead invoker isolation key label language large last leakproof
            level listen load local location lock locked logged mapping match matched materialized maxvalue
            merge method minute minvalue mode month move name names new next nfc nfd nfkc nfkd no normalized
            nothing notify nowait nulls object of off oids old operator option options ordinality others over
            overriding owned owner parallel parameter parser partial partition passing password plans policy
            preceding prepare prepared preserve prior privileges procedural procedure procedures program
            publication quote range read reassign recheck recursive ref referencing refresh reindex relative
            release rename repeatable replace replica reset restart restrict return returns revoke role
            rollback rollup routine routines rows rule savepoint schema schemas scroll search second security
            sequence sequences serializable server session set sets share show simple skip snapshot sql stable
            standalone start statement statistics stdin stdout storage stored strict strip subscription support
            sysid system tables tablespace temp template temporary text ties transaction transform trigger
            truncate trusted type types uescape unbounded uncommitted unencrypted unknown unlisten unlogged
            until update vacuum valid validate validator value varying version view views volatile whitespace
            within without work wrapper write xml year yes zone
            """;

    /** Unreserved PostgreSQL words that this grammar reads as clause words, so never as names. */
    private static final String CLAUSE_WORDS = "set nulls first last nowait skip locked share escape";

    /** Words that are never names here: a name that is one of them makes the analyser decline. */
    private static final Set<String> NOT_NAMES = notNames(ParserKeywordsUtils.RESTRICTED_JSQLPARSER);

    /**
     * Words that are never schema names here. JSqlParser reserves fewer words in that position
     * (it accepts {@code public}, which it reserves as an alias).
     */
    private static final Set<String> NOT_SCHEMA_NAMES = notNames(ParserKeywordsUtils.RESTRICTED_SCHEMA);

    private static final Set<String> UNRESERVED = Set.of(UNRESERVED_KEY_WORDS.strip().split("\\s+"));

    /** Constant-valued key words a value may be; they name no column (QueryFactsCollector.VALUE_FUNCTIONS). */
    private static final Set<String> VALUE_WORDS = Set.of("null", "true", "false", "default",
            "current_timestamp", "current_date");

    /** Comparison operators the tautology rule treats as reflexive ({@code x = x} is always true). */
    private static final Set<String> REFLEXIVE = Set.of("=", ">=", "<=");
    private static final Set<String> COMPARISONS = Set.of("=", "<>", "!=", "<", ">", "<=", ">=");
    private static final Set<String> ARITHMETIC = Set.of("+", "-", "*", "/", "%", "||");

    /** Parenthesis depth of a condition; deeper ones go to the full parser, which has its own limit. */
    private static final int MAX_DEPTH = 16;
    /** The longest identifier PostgreSQL keeps (NAMEDATALEN - 1); longer ones are truncated, not read here. */
    private static final int MAX_IDENTIFIER = 63;

    private SimpleStatementAnalyzer() {
    }

    /**
     * The statement's facts, or empty when the full path must decide.
     *
     * @param statement      one lexed statement
     * @param kind           its kind ({@link StatementClassifier})
     * @param fingerprint    its fingerprint ({@link Normalizer#fingerprint})
     * @param normalized     its normalized text ({@link Normalizer#normalize(LexedStatement)})
     * @param maxParseLength the full path's longest parser input: a statement whose parser text
     *                       could be longer is unparsed there, so it is declined here
     */
    public static Optional<StatementFacts> analyze(LexedStatement statement, StatementKind kind, String fingerprint,
                                                   String normalized, int maxParseLength) {
        if (!statement.wellFormed() || commentAfterLiteral(statement.tokens())
                || parserInputBound(statement.significant()) > maxParseLength) {
            return Optional.empty();
        }
        Reader reader = new Reader(statement.significant());
        try {
            switch (kind) {
                case SELECT:
                    reader.select();
                    break;
                case INSERT:
                    reader.insert();
                    break;
                case UPDATE:
                    reader.update();
                    break;
                case DELETE:
                    reader.delete();
                    break;
                default:
                    return Optional.empty();
            }
        } catch (Decline decline) {
            return Optional.empty();
        }
        return Optional.of(reader.facts.build(kind, fingerprint, normalized, true));
    }

    private static Set<String> notNames(int jsqlParserRestriction) {
        Set<String> words = new HashSet<>();
        for (String word : POSTGRES_KEY_WORDS.split("\\s+")) {
            if (!word.isEmpty()) {
                words.add(word);
            }
        }
        words.addAll(List.of(CLAUSE_WORDS.split(" ")));
        // Whatever JSqlParser reserves in the position it may read differently from a name.
        for (String word : ParserKeywordsUtils.getReservedKeywords(jsqlParserRestriction)) {
            words.add(word.trim().toLowerCase(Locale.ROOT));
        }
        return Set.copyOf(words);
    }

    /**
     * A string literal followed, with only white space between, by a comment: the shape the
     * comment-after-literal heuristic inspects. The heuristic runs on both paths anyway; the fast
     * path stays out of the neighbourhood of an injection attempt altogether.
     */
    private static boolean commentAfterLiteral(List<Token> tokens) {
        for (int i = 0; i < tokens.size(); i++) {
            if (!tokens.get(i).isStringConstant()) {
                continue;
            }
            int next = i + 1;
            while (next < tokens.size() && tokens.get(next).is(TokenType.WHITESPACE)) {
                next++;
            }
            if (next < tokens.size() && tokens.get(next).type().isComment()) {
                return true;
            }
        }
        return false;
    }

    /**
     * An upper bound of the length of the text ParserInput renders for these tokens: constants
     * become {@code 's'} or {@code 1}, other tokens keep their source text (the identifiers read
     * here need no quoting), each with at most two spaces around it.
     */
    private static long parserInputBound(List<Token> words) {
        long length = 0;
        for (Token token : words) {
            length += token.type().isConstant() ? 5 : token.end() - token.start() + 2;
        }
        return length;
    }

    /** Thrown to give up; carries no stack trace, so declining costs about what answering does. */
    private static final class Decline extends RuntimeException {
        private static final long serialVersionUID = 1L;
        static final Decline INSTANCE = new Decline();

        private Decline() {
            super("statement outside the simple shapes", null, false, false);
        }
    }

    /** A column reference as written, resolved once the statement's only table is known. */
    private record PendingColumn(String qualifier, String name, Clause clause, boolean insideExpression) {
    }

    /**
     * A recursive-descent reader of the shapes above. It records the columns in the order the
     * full path's walker visits them, which is their textual order for these shapes: the table
     * first, then select list or assignments, then WHERE, ORDER BY and RETURNING.
     */
    private static final class Reader {
        final FactsBuilder facts = new FactsBuilder();
        private final List<Token> words;
        private final List<PendingColumn> columns = new ArrayList<>();
        private int position;
        private int depth;
        private ObjectName table;
        /** The name columns may be qualified with: the alias, or the table name without one. */
        private String binding;

        Reader(List<Token> words) {
            this.words = words;
        }

        // ------------------------------------------------------------ statements

        void select() {
            expectWord("select");
            selectItems(Clause.PROJECTION);
            if (acceptWord("from")) {
                target(Action.SELECT);
                alias();
                if (acceptWord("where")) {
                    condition();
                }
                if (acceptWord("order")) {
                    expectWord("by");
                    orderBy();
                }
                if (acceptWord("limit")) {
                    rowCount();
                }
                if (acceptWord("offset")) {
                    rowCount();
                }
                if (acceptWord("for")) {
                    lockingClause();
                }
            }
            end();
        }

        void insert() {
            expectWord("insert");
            expectWord("into");
            target(Action.INSERT);
            if (acceptWord("as")) {
                binding = name();
            }
            if (accept(TokenType.LEFT_PAREN)) {
                do {
                    columns.add(new PendingColumn(null, name(), Clause.ASSIGNMENT, false));
                } while (accept(TokenType.COMMA));
                expect(TokenType.RIGHT_PAREN);
            }
            expectWord("values");
            do {
                expect(TokenType.LEFT_PAREN);
                do {
                    if (value(Clause.PROJECTION)) {
                        // A column in VALUES is an error in PostgreSQL; leave it to the full path.
                        throw Decline.INSTANCE;
                    }
                } while (accept(TokenType.COMMA));
                expect(TokenType.RIGHT_PAREN);
            } while (accept(TokenType.COMMA));
            returning();
            end();
        }

        void update() {
            expectWord("update");
            target(Action.UPDATE);
            if (!peekWord("set")) {
                alias();
            }
            expectWord("set");
            do {
                columns.add(new PendingColumn(null, name(), Clause.ASSIGNMENT, false));
                expectOperator("=");
                // Assigned values are walked as expressions: even a bare column is "inside" one.
                value(Clause.PROJECTION);
            } while (accept(TokenType.COMMA));
            if (acceptWord("where")) {
                condition();
            }
            returning();
            end();
        }

        void delete() {
            expectWord("delete");
            expectWord("from");
            target(Action.DELETE);
            alias();
            if (acceptWord("where")) {
                condition();
            }
            returning();
            end();
        }

        private void end() {
            if (position != words.size()) {
                throw Decline.INSTANCE;
            }
            for (PendingColumn column : columns) {
                emit(column);
            }
        }

        // ------------------------------------------------------------ clauses

        /** The statement's only table: recorded first, as the full path records FROM and targets first. */
        private ObjectName target(Action action) {
            String schema = null;
            if (lookingAt(1, TokenType.DOT)) {
                Token token = next();
                if (!isName(token, NOT_SCHEMA_NAMES)) {
                    throw Decline.INSTANCE;
                }
                schema = token.value();
                position++;
            }
            String name = name();
            ObjectName target = new ObjectName(schema, name);
            if (HeuristicRules.isCatalogRelation(target)) {
                throw Decline.INSTANCE;
            }
            facts.table(target, action);
            table = target;
            binding = name;
            return target;
        }

        /** {@code [AS] alias} after a table; anything that is not a name is left for the next clause. */
        private void alias() {
            if (acceptWord("as")) {
                binding = name();
            } else if (position < words.size() && isName(words.get(position))
                    && !UNRESERVED.contains(words.get(position).value())) {
                binding = name();
            }
        }

        private void selectItems(Clause clause) {
            do {
                Token token = next();
                if (token.is(TokenType.OPERATOR) && token.value().equals("*")) {
                    continue;
                }
                position--;
                if (isName(token) && lookingAt(1, TokenType.DOT) && lookingAtStar(2)) {
                    // alias.* names no column; the qualifier must still be the statement's table.
                    columns.add(new PendingColumn(name(), null, clause, false));
                    position += 2;
                    continue;
                }
                if (isName(token)) {
                    columnReference(clause, false);
                } else {
                    constant();
                }
                if (acceptWord("as")) {
                    name();
                }
            } while (accept(TokenType.COMMA));
        }

        private void returning() {
            if (acceptWord("returning")) {
                selectItems(Clause.RETURNING);
            }
        }

        private void orderBy() {
            do {
                Token token = next();
                if (token.is(TokenType.NUMBER)) {
                    // An output column number names nothing new.
                } else {
                    position--;
                    columnReference(Clause.FILTER, false);
                }
                if (!acceptWord("asc")) {
                    acceptWord("desc");
                }
                if (acceptWord("nulls")) {
                    if (!acceptWord("first")) {
                        expectWord("last");
                    }
                }
            } while (accept(TokenType.COMMA));
        }

        private void rowCount() {
            Token token = next();
            if (!token.is(TokenType.NUMBER) && !token.is(TokenType.PARAMETER)) {
                throw Decline.INSTANCE;
            }
        }

        private void lockingClause() {
            if (!acceptWord("update")) {
                expectWord("share");
            }
            if (!acceptWord("nowait") && acceptWord("skip")) {
                expectWord("locked");
            }
        }

        // ------------------------------------------------------------ conditions

        /**
         * A WHERE condition. Every column in it is a filter inside an expression (the full path
         * marks only a condition that is a bare column as outside one, and this grammar has no
         * bare-column condition).
         */
        private void condition() {
            orCondition();
        }

        /** @return whether the condition reads a column: a branch that does not is always true or false */
        private boolean orCondition() {
            boolean first = andCondition();
            if (!peekWord("or")) {
                return first;
            }
            boolean reads = requireRowDependent(first);
            while (acceptWord("or")) {
                reads |= requireRowDependent(andCondition());
            }
            return reads;
        }

        /**
         * The tautology heuristic flags an OR branch that does not depend on the row (constant, or
         * {@code x = x}); such branches are left to the full path. A branch that reads a column is
         * row-dependent unless it is such a reflexive comparison, which {@link #comparison}
         * declines wherever it occurs.
         */
        private static boolean requireRowDependent(boolean readsColumn) {
            if (!readsColumn) {
                throw Decline.INSTANCE;
            }
            return true;
        }

        private boolean andCondition() {
            boolean reads = notCondition();
            while (acceptWord("and")) {
                reads |= notCondition();
            }
            return reads;
        }

        /** NOT changes no fact; a loop rather than recursion, so a long run of NOTs cannot overflow the stack. */
        private boolean notCondition() {
            while (acceptWord("not")) {
                // Skipped: the tautology heuristic looks through NOT as well.
            }
            return predicate();
        }

        private boolean predicate() {
            if (accept(TokenType.LEFT_PAREN)) {
                if (++depth > MAX_DEPTH) {
                    throw Decline.INSTANCE;
                }
                boolean reads = orCondition();
                expect(TokenType.RIGHT_PAREN);
                depth--;
                return reads;
            }
            boolean left = value(Clause.FILTER);
            Token token = next();
            if (token.is(TokenType.OPERATOR) && COMPARISONS.contains(token.value())) {
                boolean right = value(Clause.FILTER);
                return comparison(left, right, REFLEXIVE.contains(token.value()));
            }
            if (token.isWord("is")) {
                acceptWord("not");
                expectWord("null");
                return left;
            }
            boolean negated = token.isWord("not");
            if (negated) {
                token = next();
            }
            if (token.isWord("like") || token.isWord("ilike")) {
                boolean right = value(Clause.FILTER);
                return comparison(left, right, true);
            }
            if (token.isWord("in")) {
                expect(TokenType.LEFT_PAREN);
                boolean reads = left;
                do {
                    reads |= value(Clause.FILTER);
                } while (accept(TokenType.COMMA));
                expect(TokenType.RIGHT_PAREN);
                return reads;
            }
            if (token.isWord("between")) {
                boolean low = value(Clause.FILTER);
                expectWord("and");
                boolean high = value(Clause.FILTER);
                return left || low || high;
            }
            throw Decline.INSTANCE;
        }

        /**
         * Two column expressions compared reflexively may be textually equal once the parser
         * input has replaced every constant by the same placeholder ({@code a + 1 = a + 2}),
         * which the tautology heuristic reports inside an OR; decline them rather than compare.
         */
        private static boolean comparison(boolean left, boolean right, boolean reflexive) {
            if (left && right && reflexive) {
                throw Decline.INSTANCE;
            }
            return left || right;
        }

        // ------------------------------------------------------------ values

        /**
         * A value: operands joined by arithmetic or concatenation.
         *
         * @return whether it reads a column
         */
        private boolean value(Clause clause) {
            boolean reads = operand(clause);
            while (position < words.size() && words.get(position).is(TokenType.OPERATOR)
                    && ARITHMETIC.contains(words.get(position).value())) {
                position++;
                reads |= operand(clause);
            }
            return reads;
        }

        private boolean operand(Clause clause) {
            Token token = peek();
            if (isName(token)) {
                columnReference(clause, true);
                return true;
            }
            if (token.is(TokenType.OPERATOR) && (token.value().equals("-") || token.value().equals("+"))) {
                position++;
                Token signed = next();
                if (!signed.is(TokenType.NUMBER) && !signed.is(TokenType.PARAMETER)) {
                    throw Decline.INSTANCE;
                }
                return false;
            }
            constant();
            return false;
        }

        private void constant() {
            Token token = next();
            boolean constant = token.is(TokenType.NUMBER) || token.is(TokenType.STRING) || token.is(TokenType.PARAMETER)
                    || token.is(TokenType.WORD) && VALUE_WORDS.contains(token.value());
            if (!constant || lookingAt(0, TokenType.LEFT_PAREN)) {
                throw Decline.INSTANCE;
            }
        }

        /** {@code column} or {@code qualifier.column}; a name followed by "(" is a call and declines. */
        private void columnReference(Clause clause, boolean insideExpression) {
            String first = name();
            String qualifier = null;
            String column = first;
            if (accept(TokenType.DOT)) {
                qualifier = first;
                column = name();
            }
            if (lookingAt(0, TokenType.LEFT_PAREN) || lookingAt(0, TokenType.DOT)) {
                throw Decline.INSTANCE;
            }
            columns.add(new PendingColumn(qualifier, column, clause, insideExpression));
        }

        /**
         * The full path's owner of a column of a one-table statement: the table, whether the
         * column is unqualified (its scope's only FROM item) or qualified by the table's binding
         * name. Any other qualifier, or a column without a table, is for the full path.
         */
        private void emit(PendingColumn column) {
            if (table == null || column.qualifier() != null && !column.qualifier().equals(binding)) {
                throw Decline.INSTANCE;
            }
            if (column.name() != null) {
                facts.column(table, column.name(), column.clause(), column.insideExpression());
            }
        }

        // ------------------------------------------------------------ tokens

        /**
         * An unquoted or quoted identifier of plain lower-case letters, digits and underscores
         * that is no key word of PostgreSQL or JSqlParser: such a name means the same to the
         * server, to the lexer and to the full path.
         */
        private static boolean isName(Token token) {
            return isName(token, NOT_NAMES);
        }

        private static boolean isName(Token token, Set<String> notNames) {
            if (!token.is(TokenType.WORD) && !token.is(TokenType.QUOTED_IDENTIFIER)) {
                return false;
            }
            String value = token.value();
            int length = value.length();
            if (length == 0 || length > MAX_IDENTIFIER) {
                return false;
            }
            for (int i = 0; i < length; i++) {
                char c = value.charAt(i);
                boolean letter = c >= 'a' && c <= 'z' || c == '_';
                if (!letter && !(i > 0 && c >= '0' && c <= '9')) {
                    return false;
                }
            }
            return !notNames.contains(value);
        }

        private String name() {
            Token token = next();
            if (!isName(token)) {
                throw Decline.INSTANCE;
            }
            return token.value();
        }

        private Token peek() {
            if (position >= words.size()) {
                throw Decline.INSTANCE;
            }
            return words.get(position);
        }

        private Token next() {
            Token token = peek();
            position++;
            return token;
        }

        private boolean lookingAt(int offset, TokenType type) {
            int index = position + offset;
            return index < words.size() && words.get(index).is(type);
        }

        private boolean lookingAtStar(int offset) {
            int index = position + offset;
            return index < words.size() && words.get(index).is(TokenType.OPERATOR) && words.get(index).value().equals("*");
        }

        private boolean peekWord(String word) {
            return position < words.size() && words.get(position).isWord(word);
        }

        private boolean acceptWord(String word) {
            if (peekWord(word)) {
                position++;
                return true;
            }
            return false;
        }

        private void expectWord(String word) {
            if (!acceptWord(word)) {
                throw Decline.INSTANCE;
            }
        }

        private boolean accept(TokenType type) {
            if (lookingAt(0, type)) {
                position++;
                return true;
            }
            return false;
        }

        private void expect(TokenType type) {
            if (!accept(type)) {
                throw Decline.INSTANCE;
            }
        }

        private void expectOperator(String operator) {
            Token token = next();
            if (!token.is(TokenType.OPERATOR) || !token.value().equals(operator)) {
                throw Decline.INSTANCE;
            }
        }
    }
}
