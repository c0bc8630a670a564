package dev.pgpolicy.sql;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.sf.jsqlparser.expression.AnalyticExpression;
import net.sf.jsqlparser.expression.AnyComparisonExpression;
import net.sf.jsqlparser.expression.BooleanValue;
import net.sf.jsqlparser.expression.CastExpression;
import net.sf.jsqlparser.expression.DateValue;
import net.sf.jsqlparser.expression.DoubleValue;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.ExpressionVisitorAdapter;
import net.sf.jsqlparser.expression.Function;
import net.sf.jsqlparser.expression.HexValue;
import net.sf.jsqlparser.expression.IntervalExpression;
import net.sf.jsqlparser.expression.JdbcNamedParameter;
import net.sf.jsqlparser.expression.JdbcParameter;
import net.sf.jsqlparser.expression.LongValue;
import net.sf.jsqlparser.expression.NotExpression;
import net.sf.jsqlparser.expression.NullValue;
import net.sf.jsqlparser.expression.NumericBind;
import net.sf.jsqlparser.expression.SignedExpression;
import net.sf.jsqlparser.expression.StringValue;
import net.sf.jsqlparser.expression.TimeValue;
import net.sf.jsqlparser.expression.TimestampValue;
import net.sf.jsqlparser.expression.TrimFunction;
import net.sf.jsqlparser.expression.UserVariable;
import net.sf.jsqlparser.expression.operators.conditional.OrExpression;
import net.sf.jsqlparser.expression.operators.relational.ExpressionList;
import net.sf.jsqlparser.expression.operators.relational.ParenthesedExpressionList;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.schema.Table;
import net.sf.jsqlparser.statement.ReturningClause;
import net.sf.jsqlparser.statement.Statement;
import net.sf.jsqlparser.statement.delete.Delete;
import net.sf.jsqlparser.statement.delete.ParenthesedDelete;
import net.sf.jsqlparser.statement.insert.Insert;
import net.sf.jsqlparser.statement.insert.InsertConflictAction;
import net.sf.jsqlparser.statement.insert.InsertConflictTarget;
import net.sf.jsqlparser.statement.insert.ParenthesedInsert;
import net.sf.jsqlparser.statement.merge.Merge;
import net.sf.jsqlparser.statement.merge.MergeDelete;
import net.sf.jsqlparser.statement.merge.MergeInsert;
import net.sf.jsqlparser.statement.merge.MergeOperation;
import net.sf.jsqlparser.statement.merge.MergeUpdate;
import net.sf.jsqlparser.statement.select.AllColumns;
import net.sf.jsqlparser.statement.select.AllTableColumns;
import net.sf.jsqlparser.statement.select.Distinct;
import net.sf.jsqlparser.statement.select.FromItem;
import net.sf.jsqlparser.statement.select.GroupByElement;
import net.sf.jsqlparser.statement.select.Join;
import net.sf.jsqlparser.statement.select.OrderByElement;
import net.sf.jsqlparser.statement.select.ParenthesedFromItem;
import net.sf.jsqlparser.statement.select.ParenthesedSelect;
import net.sf.jsqlparser.statement.select.PlainSelect;
import net.sf.jsqlparser.statement.select.Select;
import net.sf.jsqlparser.statement.select.SelectItem;
import net.sf.jsqlparser.statement.select.SetOperation;
import net.sf.jsqlparser.statement.select.SetOperationList;
import net.sf.jsqlparser.statement.select.TableFunction;
import net.sf.jsqlparser.statement.select.TableStatement;
import net.sf.jsqlparser.statement.select.UnionOp;
import net.sf.jsqlparser.statement.select.Values;
import net.sf.jsqlparser.statement.select.WithItem;
import net.sf.jsqlparser.statement.update.ParenthesedUpdate;
import net.sf.jsqlparser.statement.update.Update;
import net.sf.jsqlparser.statement.update.UpdateSet;

/**
 * Walks a JSqlParser tree of a query or DML statement and records the tables with the action done
 * to each, the columns by clause, the functions called, and the tree-level heuristics (tautology,
 * union probe, catalog relations). It is written by hand rather than on JSqlParser's
 * {@code TablesNamesFinder} because that class throws on data-modifying CTEs and does not know
 * actions or clauses. Any construct it does not understand throws {@link UnsupportedConstruct},
 * which makes the statement unparsed: guessing would be worse than refusing.
 */
final class QueryFactsCollector {
    /** SQL value functions that JSqlParser reads as column names (PostgreSQL docs 9.9.5, 9.26). */
    private static final Set<String> VALUE_FUNCTIONS = Set.of("current_date", "current_time", "current_timestamp",
            "localtime", "localtimestamp", "current_user", "session_user", "user", "current_role",
            "current_catalog", "current_schema", "true", "false", "null", "default");

    private static final Set<String> QUANTIFIERS = Set.of("any", "some", "all");

    static final class UnsupportedConstruct extends RuntimeException {
        private static final long serialVersionUID = 1L;

        UnsupportedConstruct(Object construct) {
            super("unsupported construct: " + (construct == null ? "null" : construct.getClass().getSimpleName()));
        }
    }

    /** What a name in a FROM list stands for: a table, or (table null) a subquery, CTE or function. */
    private record Binding(ObjectName table) {
    }

    /** One query level: the names its FROM list binds, and the CTE names visible in it. */
    private static final class Scope {
        final Scope parent;
        final Map<String, Binding> bindings = new HashMap<>();
        final List<Binding> items = new ArrayList<>();
        final Set<String> cteNames = new HashSet<>();

        Scope(Scope parent) {
            this.parent = parent;
        }

        boolean isCte(String name) {
            for (Scope scope = this; scope != null; scope = scope.parent) {
                if (scope.cteNames.contains(name)) {
                    return true;
                }
            }
            return false;
        }

        Binding lookup(String name) {
            for (Scope scope = this; scope != null; scope = scope.parent) {
                Binding binding = scope.bindings.get(name);
                if (binding != null) {
                    return binding;
                }
            }
            return null;
        }

        /**
         * The table an unqualified column belongs to, when certain: the only FROM item of the
         * innermost level that has any, and no table at an enclosing level. PostgreSQL resolves
         * an unqualified name to the innermost level whose tables have such a column, so inside
         * a subquery the name may be an outer reference ({@code WHERE EXISTS (SELECT 1 FROM orders
         * WHERE ssn = ...)} filters on the outer table's ssn when orders has none); only the
         * catalog could tell, so the owner is then unknown (null), which policies treat as any
         * table of the statement.
         */
        ObjectName soleTable() {
            Scope scope = this;
            while (scope != null && scope.items.isEmpty()) {
                scope = scope.parent;
            }
            if (scope == null || scope.items.size() != 1) {
                return null;
            }
            for (Scope outer = scope.parent; outer != null; outer = outer.parent) {
                if (!outer.items.isEmpty()) {
                    return null;
                }
            }
            return scope.items.get(0).table();
        }
    }

    private final FactsBuilder facts;
    private final Deque<Scope> scopes = new ArrayDeque<>();
    private final ExpressionWalker walker = new ExpressionWalker();
    private Clause clause = Clause.PROJECTION;
    /** SELECT and VALUES bodies visited, checked against the count in the text (ParserInput.queryBodies). */
    private int queryBodies;
    private boolean insideExpression;
    /** Depth of subqueries inside expressions: their select lists feed an expression, never a result column. */
    private int nestedQueries;
    /** Whether the select list being walked is compared (a subquery in a filter) rather than returned. */
    private boolean projectionFilters;

    QueryFactsCollector(FactsBuilder facts) {
        this.facts = facts;
    }

    void statement(Statement statement) {
        scopes.push(new Scope(null));
        if (statement instanceof Select) {
            select((Select) statement);
        } else if (statement instanceof Insert) {
            insert((Insert) statement);
        } else if (statement instanceof Update) {
            update((Update) statement);
        } else if (statement instanceof Delete) {
            delete((Delete) statement);
        } else if (statement instanceof Merge) {
            merge((Merge) statement);
        } else {
            throw new UnsupportedConstruct(statement);
        }
    }

    private Scope scope() {
        return scopes.peek();
    }

    private Scope pushScope() {
        Scope scope = new Scope(scopes.peek());
        scopes.push(scope);
        return scope;
    }

    // ---------------------------------------------------------------- statements

    private void select(Select select) {
        Scope cteScope = withItems(select.getWithItemsList());
        try {
            if (select instanceof PlainSelect) {
                plainSelect((PlainSelect) select);
            } else if (select instanceof SetOperationList) {
                setOperations((SetOperationList) select);
            } else if (select instanceof ParenthesedSelect) {
                select(((ParenthesedSelect) select).getSelect());
                orderAndLimit(select);
            } else if (select instanceof Values) {
                queryBodies++;
                expressions(((Values) select).getExpressions(), Clause.PROJECTION);
            } else if (select instanceof TableStatement) {
                queryBodies++;
                Table table = ((TableStatement) select).getTable();
                bindTable(table, Action.SELECT, scope());
                orderAndLimit(select);
            } else {
                throw new UnsupportedConstruct(select);
            }
        } finally {
            if (cteScope != null) {
                scopes.pop();
            }
        }
    }

    /**
     * Walks WITH items and makes their names visible. Without RECURSIVE, each item sees only the
     * items before it, so {@code WITH t AS (SELECT * FROM t)} reads the real table t.
     */
    private Scope withItems(List<WithItem<?>> items) {
        if (items == null || items.isEmpty()) {
            return null;
        }
        Scope scope = pushScope();
        boolean recursive = false;
        for (WithItem<?> item : items) {
            recursive |= item.isRecursive();
        }
        if (recursive) {
            for (WithItem<?> item : items) {
                scope.cteNames.add(Names.fold(item.getAliasName()));
            }
        }
        for (WithItem<?> item : items) {
            boolean savedInside = insideExpression;
            int savedNested = nestedQueries;
            boolean savedFilters = projectionFilters;
            insideExpression = false;
            nestedQueries = 0;
            projectionFilters = false;
            try {
                Object body = item.getParenthesedStatement();
                if (body instanceof ParenthesedSelect) {
                    select((ParenthesedSelect) body);
                } else if (body instanceof ParenthesedInsert) {
                    insert(((ParenthesedInsert) body).getInsert());
                } else if (body instanceof ParenthesedUpdate) {
                    update(((ParenthesedUpdate) body).getUpdate());
                } else if (body instanceof ParenthesedDelete) {
                    delete(((ParenthesedDelete) body).getDelete());
                } else {
                    throw new UnsupportedConstruct(body);
                }
            } finally {
                insideExpression = savedInside;
                nestedQueries = savedNested;
                projectionFilters = savedFilters;
            }
            scope.cteNames.add(Names.fold(item.getAliasName()));
        }
        return scope;
    }

    int queryBodies() {
        return queryBodies;
    }

    /** Clauses of other dialects that PostgreSQL would reject; the walker does not look inside them. */
    private static void rejectForeignClauses(PlainSelect select) {
        if (select.getQualify() != null || select.getOracleHierarchical() != null || select.getTop() != null
                || select.getSkip() != null || select.getFirst() != null || select.getKsqlWindow() != null
                || select.getPreferringClause() != null || select.getIntoTempTable() != null
                || select.getOptimizeFor() != null || select.getForXmlPath() != null
                || select.getLateralViews() != null && !select.getLateralViews().isEmpty()
                || select.getPivot() != null || select.getUnPivot() != null || select.getLimitBy() != null) {
            throw new UnsupportedConstruct(select);
        }
    }

    private void plainSelect(PlainSelect select) {
        rejectForeignClauses(select);
        queryBodies++;
        Scope scope = pushScope();
        try {
            if (select.getFromItem() != null) {
                fromItem(select.getFromItem(), scope);
            }
            List<Join> joins = select.getJoins() == null ? List.of() : select.getJoins();
            for (Join join : joins) {
                fromItem(join.getRightItem(), scope);
            }
            for (Join join : joins) {
                joinCondition(join);
            }
            Distinct distinct = select.getDistinct();
            if (distinct != null && distinct.getOnSelectItems() != null) {
                for (SelectItem<?> item : distinct.getOnSelectItems()) {
                    expression(item.getExpression(), Clause.FILTER);
                }
            }
            for (SelectItem<?> item : select.getSelectItems()) {
                projection(item.getExpression());
            }
            if (select.getIntoTables() != null) {
                for (Table into : select.getIntoTables()) {
                    facts.table(Names.table(into), Action.DDL);
                }
            }
            condition(select.getWhere());
            GroupByElement groupBy = select.getGroupBy();
            if (groupBy != null) {
                if (groupBy.getGroupByExpressionList() != null) {
                    expressions(groupBy.getGroupByExpressionList(), Clause.FILTER);
                }
                if (groupBy.getGroupingSets() != null) {
                    for (Object set : groupBy.getGroupingSets()) {
                        if (set instanceof Expression) {
                            expression((Expression) set, Clause.FILTER);
                        }
                    }
                }
            }
            condition(select.getHaving());
            if (select.getWindowDefinitions() != null) {
                for (var window : select.getWindowDefinitions()) {
                    if (window.getPartitionExpressionList() != null) {
                        expressions(window.getPartitionExpressionList(), Clause.FILTER);
                    }
                    orderBy(window.getOrderByElements());
                }
            }
            orderAndLimit(select);
        } finally {
            scopes.pop();
        }
    }

    private void orderAndLimit(Select select) {
        orderBy(select.getOrderByElements());
        if (select.getLimit() != null) {
            expression(select.getLimit().getRowCount(), Clause.FILTER);
            expression(select.getLimit().getOffset(), Clause.FILTER);
        }
        if (select.getOffset() != null) {
            expression(select.getOffset().getOffset(), Clause.FILTER);
        }
        if (select.getFetch() != null) {
            expression(select.getFetch().getExpression(), Clause.FILTER);
        }
    }

    private void orderBy(List<OrderByElement> elements) {
        if (elements != null) {
            for (OrderByElement element : elements) {
                expression(element.getExpression(), Clause.FILTER);
            }
        }
    }

    /**
     * Set operations, and the union-probe heuristic: the shape an injected {@code UNION} leaves
     * is an arm after the application's own query that is only constants or NULLs (probing the
     * column count), or that reads the catalog while the other arms read ordinary tables. A
     * recursive CTE's constant anchor comes first and reporting unions read tables, so neither is
     * a finding.
     */
    private void setOperations(SetOperationList list) {
        boolean union = false;
        for (SetOperation operation : list.getOperations()) {
            union |= operation instanceof UnionOp;
        }
        boolean firstReadsTable = false;
        boolean laterConstant = false;
        boolean catalogArm = false;
        boolean ordinaryArm = false;
        List<Select> arms = list.getSelects();
        for (int i = 0; i < arms.size(); i++) {
            Select arm = arms.get(i);
            Select inner = unwrap(arm);
            FactsBuilder before = facts;
            int tablesBefore = before.tables().size();
            select(arm);
            List<TableAccess> added = new ArrayList<>(before.tables()).subList(tablesBefore, before.tables().size());
            boolean readsTable = !added.isEmpty() || inner instanceof PlainSelect && ((PlainSelect) inner).getFromItem() != null;
            if (i == 0) {
                firstReadsTable = readsTable;
            } else if (inner instanceof PlainSelect && isConstantRow((PlainSelect) inner)) {
                laterConstant = true;
            }
            for (TableAccess access : added) {
                if (HeuristicRules.isCatalogRelation(access.table())) {
                    catalogArm = true;
                } else {
                    ordinaryArm = true;
                }
            }
        }
        if (union && (firstReadsTable && laterConstant || catalogArm && ordinaryArm)) {
            facts.finding(Heuristic.UNION_PROBE);
        }
        orderAndLimit(list);
    }

    private static Select unwrap(Select select) {
        Select current = select;
        while (current instanceof ParenthesedSelect && ((ParenthesedSelect) current).getSelect() != null) {
            current = ((ParenthesedSelect) current).getSelect();
        }
        return current;
    }

    /**
     * A select arm of only constants or NULLs, as in {@code UNION SELECT NULL, NULL}, with no
     * FROM or a FROM of only a function ({@code FROM generate_series(1, 1)}), and no WHERE.
     */
    private static boolean isConstantRow(PlainSelect select) {
        boolean onlyFunction = select.getFromItem() instanceof TableFunction
                && (select.getJoins() == null || select.getJoins().isEmpty());
        if (select.getFromItem() != null && !onlyFunction || select.getWhere() != null) {
            return false;
        }
        for (SelectItem<?> item : select.getSelectItems()) {
            if (!ConstantCheck.isConstant(item.getExpression())) {
                return false;
            }
        }
        return true;
    }

    private void insert(Insert insert) {
        Scope cteScope = withItems(insert.getWithItemsList());
        try {
            ObjectName target = Names.table(insert.getTable());
            facts.table(target, Action.INSERT);
            if (insert.getColumns() != null) {
                for (Column column : insert.getColumns()) {
                    facts.column(target, Names.fold(column.getColumnName()), Clause.ASSIGNMENT, false);
                }
            }
            if (insert.getSelect() != null) {
                select(insert.getSelect());
            }
            if (insert.getSetUpdateSets() != null && !insert.getSetUpdateSets().isEmpty()) {
                throw new UnsupportedConstruct(insert.getSetUpdateSets());
            }
            if (insert.getDuplicateUpdateSets() != null && !insert.getDuplicateUpdateSets().isEmpty()) {
                throw new UnsupportedConstruct(insert.getDuplicateUpdateSets());
            }
            Scope scope = pushScope();
            try {
                bind(scope, target, insert.getTable().getAlias() == null ? target.name() : Names.fold(insert.getTable().getAlias().getName()));
                // EXCLUDED is the row proposed for insertion into the target (PostgreSQL docs, INSERT).
                scope.bindings.put("excluded", new Binding(target));
                InsertConflictTarget conflictTarget = insert.getConflictTarget();
                if (conflictTarget != null) {
                    if (conflictTarget.getIndexColumnNames() != null) {
                        for (String column : conflictTarget.getIndexColumnNames()) {
                            facts.column(target, Names.fold(column), Clause.FILTER, false);
                        }
                    }
                    expression(conflictTarget.getIndexExpression(), Clause.FILTER);
                    condition(conflictTarget.getWhereExpression());
                }
                InsertConflictAction action = insert.getConflictAction();
                if (action != null && action.getUpdateSets() != null && !action.getUpdateSets().isEmpty()) {
                    facts.table(target, Action.UPDATE);
                    updateSets(target, action.getUpdateSets());
                    condition(action.getWhereExpression());
                }
                returning(insert.getReturningClause());
            } finally {
                scopes.pop();
            }
        } finally {
            if (cteScope != null) {
                scopes.pop();
            }
        }
    }

    private void update(Update update) {
        Scope cteScope = withItems(update.getWithItemsList());
        Scope scope = pushScope();
        try {
            if (update.getStartJoins() != null && !update.getStartJoins().isEmpty()) {
                throw new UnsupportedConstruct(update.getStartJoins());
            }
            ObjectName target = bindTable(update.getTable(), Action.UPDATE, scope);
            if (update.getFromItem() != null) {
                fromItem(update.getFromItem(), scope);
            }
            List<Join> joins = update.getJoins() == null ? List.of() : update.getJoins();
            for (Join join : joins) {
                fromItem(join.getRightItem(), scope);
            }
            for (Join join : joins) {
                joinCondition(join);
            }
            updateSets(target, update.getUpdateSets());
            condition(update.getWhere());
            orderBy(update.getOrderByElements());
            returning(update.getReturningClause());
        } finally {
            scopes.pop();
            if (cteScope != null) {
                scopes.pop();
            }
        }
    }

    private void delete(Delete delete) {
        Scope cteScope = withItems(delete.getWithItemsList());
        Scope scope = pushScope();
        try {
            if (delete.getTables() != null && !delete.getTables().isEmpty()) {
                throw new UnsupportedConstruct(delete.getTables());
            }
            bindTable(delete.getTable(), Action.DELETE, scope);
            if (delete.getUsingList() != null) {
                for (Table using : delete.getUsingList()) {
                    fromItem(using, scope);
                }
            }
            List<Join> joins = delete.getJoins() == null ? List.of() : delete.getJoins();
            for (Join join : joins) {
                fromItem(join.getRightItem(), scope);
            }
            for (Join join : joins) {
                joinCondition(join);
            }
            condition(delete.getWhere());
            orderBy(delete.getOrderByElements());
            returning(delete.getReturningClause());
        } finally {
            scopes.pop();
            if (cteScope != null) {
                scopes.pop();
            }
        }
    }

    private void merge(Merge merge) {
        Scope cteScope = withItems(merge.getWithItemsList());
        Scope scope = pushScope();
        try {
            ObjectName target = bindTable(merge.getTable(), Action.MERGE, scope);
            fromItem(merge.getFromItem(), scope);
            condition(merge.getOnCondition());
            List<MergeOperation> operations = merge.getOperations() == null ? List.of() : merge.getOperations();
            for (MergeOperation operation : operations) {
                if (operation instanceof MergeUpdate) {
                    MergeUpdate update = (MergeUpdate) operation;
                    facts.table(target, Action.UPDATE);
                    condition(update.getAndPredicate());
                    updateSets(target, update.getUpdateSets());
                    condition(update.getWhereCondition());
                    condition(update.getDeleteWhereCondition());
                } else if (operation instanceof MergeInsert) {
                    MergeInsert insert = (MergeInsert) operation;
                    facts.table(target, Action.INSERT);
                    condition(insert.getAndPredicate());
                    if (insert.getColumns() != null) {
                        for (Column column : insert.getColumns()) {
                            facts.column(target, Names.fold(column.getColumnName()), Clause.ASSIGNMENT, false);
                        }
                    }
                    if (insert.getValues() != null) {
                        queryBodies++;
                        expressions(insert.getValues(), Clause.PROJECTION);
                    }
                    condition(insert.getWhereCondition());
                } else if (operation instanceof MergeDelete) {
                    facts.table(target, Action.DELETE);
                    condition(((MergeDelete) operation).getAndPredicate());
                } else {
                    throw new UnsupportedConstruct(operation);
                }
            }
            if (merge.getOutputClause() != null) {
                throw new UnsupportedConstruct(merge.getOutputClause());
            }
        } finally {
            scopes.pop();
            if (cteScope != null) {
                scopes.pop();
            }
        }
    }

    private void updateSets(ObjectName target, List<UpdateSet> sets) {
        if (sets == null) {
            return;
        }
        for (UpdateSet set : sets) {
            for (Column column : set.getColumns()) {
                facts.column(target, Names.fold(column.getColumnName()), Clause.ASSIGNMENT, false);
            }
            for (Expression value : set.getValues()) {
                boolean saved = insideExpression;
                Clause savedClause = clause;
                insideExpression = true;
                clause = Clause.PROJECTION;
                try {
                    value.accept(walker, null);
                } finally {
                    insideExpression = saved;
                    clause = savedClause;
                }
            }
        }
    }

    private void returning(ReturningClause returning) {
        if (returning == null) {
            return;
        }
        for (SelectItem<?> item : returning) {
            Expression expression = item.getExpression();
            if (expression instanceof AllColumns || expression instanceof AllTableColumns) {
                continue;
            }
            expression(expression, Clause.RETURNING);
        }
        if (returning.getDataItems() != null && !returning.getDataItems().isEmpty()) {
            throw new UnsupportedConstruct(returning.getDataItems());
        }
    }

    // ---------------------------------------------------------------- FROM

    /**
     * A table in FROM, or the target of UPDATE, DELETE or MERGE. An unqualified name in FROM
     * may be a CTE; a target never is: PostgreSQL opens the target relation ignoring CTEs
     * ("CTEs don't hide tables (for this purpose)", setTargetTable in parse_clause.c).
     */
    private ObjectName bindTable(Table table, Action action, Scope scope) {
        ObjectName name = Names.table(table);
        String alias = table.getAlias() == null ? name.name() : Names.fold(table.getAlias().getName());
        if (action == Action.SELECT && !name.qualified() && scope.isCte(name.name())) {
            Binding binding = new Binding(null);
            scope.bindings.put(alias, binding);
            scope.items.add(binding);
            return null;
        }
        facts.table(name, action);
        bind(scope, name, alias);
        return name;
    }

    private void bind(Scope scope, ObjectName table, String alias) {
        Binding binding = new Binding(table);
        scope.bindings.put(alias, binding);
        scope.items.add(binding);
    }

    private void fromItem(FromItem item, Scope scope) {
        if (item instanceof Table) {
            bindTable((Table) item, Action.SELECT, scope);
        } else if (item instanceof ParenthesedSelect) {
            ParenthesedSelect subquery = (ParenthesedSelect) item;
            boolean savedInside = insideExpression;
            boolean savedFilters = projectionFilters;
            insideExpression = false;
            projectionFilters = false;
            try {
                select(subquery);
            } finally {
                insideExpression = savedInside;
                projectionFilters = savedFilters;
            }
            bindDerived(scope, item);
        } else if (item instanceof Values) {
            select((Values) item);
            bindDerived(scope, item);
        } else if (item instanceof ParenthesedFromItem) {
            ParenthesedFromItem nested = (ParenthesedFromItem) item;
            fromItem(nested.getFromItem(), scope);
            List<Join> joins = nested.getJoins() == null ? List.of() : nested.getJoins();
            for (Join join : joins) {
                fromItem(join.getRightItem(), scope);
            }
            for (Join join : joins) {
                joinCondition(join);
            }
            if (nested.getAlias() != null) {
                bindDerived(scope, item);
            }
        } else if (item instanceof TableFunction) {
            TableFunction function = (TableFunction) item;
            Expression call = function.getFunction();
            expression(call, Clause.PROJECTION);
            bindDerived(scope, item);
        } else {
            throw new UnsupportedConstruct(item);
        }
    }

    private void bindDerived(Scope scope, FromItem item) {
        Binding binding = new Binding(null);
        if (item.getAlias() != null) {
            scope.bindings.put(Names.fold(item.getAlias().getName()), binding);
        }
        scope.items.add(binding);
    }

    private void joinCondition(Join join) {
        for (Expression on : join.getOnExpressions()) {
            condition(on);
        }
        if (join.getUsingColumns() != null) {
            for (Column column : join.getUsingColumns()) {
                facts.column(null, Names.fold(column.getColumnName()), Clause.FILTER, false);
            }
        }
    }

    // ---------------------------------------------------------------- expressions

    private void projection(Expression expression) {
        if (expression instanceof AllColumns || expression instanceof AllTableColumns) {
            return;
        }
        expression(expression, projectionFilters ? Clause.FILTER : Clause.PROJECTION);
    }

    /** A WHERE, ON or HAVING condition: a filter, and the place where tautologies are looked for. */
    private void condition(Expression expression) {
        if (expression == null) {
            return;
        }
        if (Tautology.containsAlwaysTrueBranch(expression)) {
            facts.finding(Heuristic.TAUTOLOGY);
        }
        expression(expression, Clause.FILTER);
    }

    private void expressions(ExpressionList<?> list, Clause where) {
        if (list != null) {
            for (Expression expression : list) {
                expression(expression, where);
            }
        }
    }

    private void expression(Expression expression, Clause where) {
        if (expression == null) {
            return;
        }
        Clause savedClause = clause;
        boolean savedInside = insideExpression;
        clause = where;
        try {
            if (expression instanceof Column && ((Column) expression).getArrayConstructor() == null) {
                column((Column) expression);
            } else {
                insideExpression = true;
                expression.accept(walker, null);
            }
        } finally {
            clause = savedClause;
            insideExpression = savedInside;
        }
    }

    private void column(Column column) {
        List<String> parts = column.getTable() == null ? List.of() : Names.parts(column.getTable());
        String name = Names.fold(column.getColumnName());
        if (parts.isEmpty() && VALUE_FUNCTIONS.contains(name) && !column.getColumnName().startsWith("\"")) {
            return;
        }
        boolean inside = insideExpression || nestedQueries > 0;
        facts.column(owner(parts), name, clause, inside);
    }

    private ObjectName owner(List<String> qualifier) {
        Scope scope = scope();
        if (qualifier.isEmpty()) {
            return scope == null ? null : scope.soleTable();
        }
        String relation = Names.fold(qualifier.get(qualifier.size() - 1));
        if (qualifier.size() == 1) {
            Binding binding = scope == null ? null : scope.lookup(relation);
            return binding == null ? null : binding.table();
        }
        String schema = Names.fold(qualifier.get(qualifier.size() - 2));
        return new ObjectName(schema, relation);
    }

    private void subquery(Select select) {
        boolean savedInside = insideExpression;
        Clause savedClause = clause;
        boolean savedFilters = projectionFilters;
        nestedQueries++;
        projectionFilters = clause == Clause.FILTER;
        try {
            select(select);
        } finally {
            nestedQueries--;
            insideExpression = savedInside;
            clause = savedClause;
            projectionFilters = savedFilters;
        }
    }

    private final class ExpressionWalker extends ExpressionVisitorAdapter<Void> {
        @Override
        public <S> Void visit(Column column, S context) {
            column(column);
            return null;
        }

        @Override
        public <S> Void visit(Function function, S context) {
            ObjectName name = Names.function(function.getMultipartName());
            // "x = ANY (array)" and ALL/SOME reach here as calls; they are operators, not functions.
            if (name.schema() != null || !QUANTIFIERS.contains(name.name())) {
                facts.function(name);
            }
            // The adapter skips named parameters: substring(x FROM 1), position(a IN x), overlay(...).
            if (function.getNamedParameters() != null) {
                for (Expression parameter : function.getNamedParameters()) {
                    accept(parameter, context);
                }
            }
            return super.visit(function, context);
        }

        /** Aggregates with FILTER, WITHIN GROUP or OVER; the adapter visits only part of them. */
        @Override
        public <S> Void visit(AnalyticExpression expression, S context) {
            facts.function(ObjectName.unqualified(Names.fold(expression.getName())));
            accept(expression.getExpression(), context);
            accept(expression.getOffset(), context);
            accept(expression.getDefaultValue(), context);
            accept(expression.getFilterExpression(), context);
            if (expression.getPartitionExpressionList() != null) {
                for (Object partition : expression.getPartitionExpressionList()) {
                    accept((Expression) partition, context);
                }
            }
            orderElements(expression.getOrderByElements(), context);
            orderElements(expression.getFuncOrderBy(), context);
            if (expression.getWindowDefinition() != null) {
                var window = expression.getWindowDefinition();
                if (window.getPartitionExpressionList() != null) {
                    for (Object partition : window.getPartitionExpressionList()) {
                        accept((Expression) partition, context);
                    }
                }
                orderElements(window.getOrderByElements(), context);
            }
            if (expression.getKeep() != null) {
                expression.getKeep().accept(this, context);
            }
            return null;
        }

        @Override
        public <S> Void visit(TrimFunction function, S context) {
            accept(function.getExpression(), context);
            accept(function.getFromExpression(), context);
            return null;
        }

        private <S> void orderElements(List<OrderByElement> elements, S context) {
            if (elements != null) {
                for (OrderByElement element : elements) {
                    accept(element.getExpression(), context);
                }
            }
        }

        private <S> void accept(Expression expression, S context) {
            if (expression != null) {
                expression.accept(this, context);
            }
        }

        @Override
        public <S> Void visit(ParenthesedSelect select, S context) {
            subquery(select);
            return null;
        }

        @Override
        public <S> Void visit(AnyComparisonExpression expression, S context) {
            subquery(expression.getSelect());
            return null;
        }

        @Override
        public <S> Void visit(Select select, S context) {
            subquery(select);
            return null;
        }

        @Override
        public <S> Void visit(AllTableColumns columns, S context) {
            return null;
        }

        @Override
        public <S> Void visit(AllColumns columns, S context) {
            return null;
        }
    }

    /** Whether an expression's value is the same for every row: no column, parameter, function or subquery. */
    static final class ConstantCheck extends ExpressionVisitorAdapter<Void> {
        private boolean variable;

        static boolean isConstant(Expression expression) {
            if (expression == null) {
                return false;
            }
            if (expression instanceof NullValue || expression instanceof LongValue || expression instanceof StringValue
                    || expression instanceof DoubleValue || expression instanceof BooleanValue
                    || expression instanceof HexValue || expression instanceof DateValue
                    || expression instanceof TimeValue || expression instanceof TimestampValue) {
                return true;
            }
            ConstantCheck check = new ConstantCheck();
            expression.accept(check, null);
            return !check.variable;
        }

        @Override
        public <S> Void visit(Column column, S context) {
            String name = column.getColumnName();
            // JSqlParser reads TRUE, FALSE and NULL in some positions as column names.
            if (column.getTable() == null && (name.equalsIgnoreCase("true") || name.equalsIgnoreCase("false")
                    || name.equalsIgnoreCase("null"))) {
                return null;
            }
            variable = true;
            return null;
        }

        @Override
        public <S> Void visit(Function function, S context) {
            variable = true;
            return null;
        }

        @Override
        public <S> Void visit(AnalyticExpression expression, S context) {
            variable = true;
            return null;
        }

        @Override
        public <S> Void visit(ParenthesedSelect select, S context) {
            variable = true;
            return null;
        }

        @Override
        public <S> Void visit(Select select, S context) {
            variable = true;
            return null;
        }

        @Override
        public <S> Void visit(JdbcParameter parameter, S context) {
            variable = true;
            return null;
        }

        @Override
        public <S> Void visit(JdbcNamedParameter parameter, S context) {
            variable = true;
            return null;
        }

        @Override
        public <S> Void visit(NumericBind bind, S context) {
            variable = true;
            return null;
        }

        @Override
        public <S> Void visit(UserVariable variable, S context) {
            this.variable = true;
            return null;
        }

        @Override
        public <S> Void visit(AllColumns columns, S context) {
            variable = true;
            return null;
        }

        @Override
        public <S> Void visit(AllTableColumns columns, S context) {
            variable = true;
            return null;
        }

        @Override
        public <S> Void visit(IntervalExpression expression, S context) {
            if (expression.getExpression() != null) {
                expression.getExpression().accept(this, context);
            }
            return null;
        }

        @Override
        public <S> Void visit(CastExpression expression, S context) {
            expression.getLeftExpression().accept(this, context);
            return null;
        }

        @Override
        public <S> Void visit(SignedExpression expression, S context) {
            expression.getExpression().accept(this, context);
            return null;
        }
    }

    /**
     * The tautology heuristic: an OR whose branch does not depend on the row, such as
     * {@code OR 1=1}, {@code OR 'a'='a'}, {@code OR true} or {@code OR x = x}. A constant
     * conjunct ({@code WHERE 1=1 AND ...}, as ORMs build queries) is not a finding. Constant
     * values are not inspected: facts are cached by literal-free text, so {@code OR 1=2} (the
     * false half of a boolean-blind probe) is reported as well.
     */
    static final class Tautology extends ExpressionVisitorAdapter<Void> {
        private boolean found;

        static boolean containsAlwaysTrueBranch(Expression expression) {
            Tautology tautology = new Tautology();
            expression.accept(tautology, null);
            return tautology.found;
        }

        @Override
        public <S> Void visit(OrExpression or, S context) {
            if (rowIndependent(or.getLeftExpression()) || rowIndependent(or.getRightExpression())) {
                found = true;
            }
            return super.visit(or, context);
        }

        @Override
        public <S> Void visit(ParenthesedSelect select, S context) {
            return null;
        }

        @Override
        public <S> Void visit(Select select, S context) {
            return null;
        }

        private static boolean rowIndependent(Expression branch) {
            Expression expression = strip(branch);
            if (expression instanceof OrExpression) {
                return false;
            }
            if (ConstantCheck.isConstant(expression)) {
                return true;
            }
            if (expression instanceof net.sf.jsqlparser.expression.BinaryExpression) {
                net.sf.jsqlparser.expression.BinaryExpression binary = (net.sf.jsqlparser.expression.BinaryExpression) expression;
                String operator = binary.getStringExpression();
                boolean reflexive = "=".equals(operator) || ">=".equals(operator) || "<=".equals(operator)
                        || "LIKE".equalsIgnoreCase(operator);
                return reflexive && binary.getLeftExpression() != null && binary.getRightExpression() != null
                        && strip(binary.getLeftExpression()).toString().equals(strip(binary.getRightExpression()).toString())
                        && !containsFunctionOrQuery(binary.getLeftExpression());
            }
            return false;
        }

        private static boolean containsFunctionOrQuery(Expression expression) {
            String text = expression.toString();
            return text.contains("(");
        }

        private static Expression strip(Expression expression) {
            Expression current = expression;
            while (true) {
                if (current instanceof ParenthesedExpressionList && ((ParenthesedExpressionList<?>) current).size() == 1) {
                    current = ((ParenthesedExpressionList<?>) current).get(0);
                } else if (current instanceof NotExpression) {
                    current = ((NotExpression) current).getExpression();
                } else {
                    return current;
                }
            }
        }
    }
}
