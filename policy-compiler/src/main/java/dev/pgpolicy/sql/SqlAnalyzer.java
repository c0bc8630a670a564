package dev.pgpolicy.sql;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import net.sf.jsqlparser.parser.CCJSqlParser;
import net.sf.jsqlparser.parser.StringProvider;
import net.sf.jsqlparser.statement.Statement;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SQL analysis entry point: splits a Query message (or the text of one Parse) into
 * statements, classifies and fingerprints each with the lexer, and produces its facts, parsing
 * with JSqlParser on a bounded executor within a time budget. Facts are cached by normalized
 * text, so traffic that differs only in constants reaches the parser once. The common OLTP
 * shapes never reach it: {@link SimpleStatementAnalyzer} reads their facts from the tokens on the
 * calling thread, and declines (to the parser) anything it is not certain about.
 *
 * <p>{@link #analyze} may block the calling thread for up to the budget per statement; callers on
 * a Netty event loop must hand it to a worker, or first try {@link #analyzeIfCheap}, which answers
 * only when no statement needs the parser. Neither throws: whatever goes wrong makes the
 * statement unparsed, which policies deny by default. Thread-safe.
 */
public final class SqlAnalyzer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SqlAnalyzer.class);
    private static final String WARM_UP_STATEMENT = "WITH w AS (SELECT a.x, count(*) FROM s.a a JOIN b ON b.y = a.y "
            + "WHERE a.z = $1 GROUP BY a.x) UPDATE c SET d = w.x FROM w WHERE c.e IN (SELECT f FROM g) RETURNING *";
    private static final Duration WARM_UP_WAIT = Duration.ofSeconds(20);
    private static final Set<StatementKind> PARSER_KINDS = EnumSet.of(StatementKind.SELECT, StatementKind.VALUES,
            StatementKind.INSERT, StatementKind.UPDATE, StatementKind.DELETE, StatementKind.MERGE);

    /**
     * @param parserThreads    threads that run JSqlParser; parsing is CPU-bound, so about the core count
     * @param queueCapacity    parses waiting for a thread; beyond it a statement is unparsed at once
     *                         rather than queueing without bound under a flood
     * @param budget           time one parse may take before its statement counts as unparsed
     * @param cacheEntries     normalized statements whose facts are kept
     * @param maxParseLength   longest parser input (after constants are neutralised) worth parsing
     * @param maxNesting       deepest parenthesis nesting worth parsing; JSqlParser recurses per level
     * @param simpleFastPath   whether {@link SimpleStatementAnalyzer} answers the common OLTP shapes
     *                         on the calling thread before a statement goes to the parser; off
     *                         only to measure or test the full path alone
     */
    public record Settings(int parserThreads, int queueCapacity, Duration budget, long cacheEntries,
                           int maxParseLength, int maxNesting, boolean simpleFastPath) {
        public Settings {
            if (parserThreads < 1 || queueCapacity < 1 || cacheEntries < 0 || maxParseLength < 1 || maxNesting < 1) {
                throw new IllegalArgumentException("analyzer settings must be positive");
            }
            Objects.requireNonNull(budget, "budget");
            if (budget.isNegative() || budget.isZero()) {
                throw new IllegalArgumentException("parse budget must be positive");
            }
        }

        public static Settings defaults() {
            return new Settings(Math.max(1, Runtime.getRuntime().availableProcessors()), 1024,
                    Duration.ofMillis(250), 20_000, 256 * 1024, 200, true);
        }

        public Settings withBudget(Duration newBudget) {
            return new Settings(parserThreads, queueCapacity, newBudget, cacheEntries, maxParseLength, maxNesting,
                    simpleFastPath);
        }

        public Settings withSimpleFastPath(boolean enabled) {
            return new Settings(parserThreads, queueCapacity, budget, cacheEntries, maxParseLength, maxNesting, enabled);
        }
    }

    /**
     * Longest message {@link #analyzeIfCheap} lexes on the calling thread. Lexing is linear, but a
     * multi-megabyte Query would still hold an event loop (and every session on it) for
     * milliseconds; OLTP statements are far shorter, and anything longer takes the worker path.
     */
    public static final int CHEAP_ANALYSIS_MAX_LENGTH = 8 * 1024;

    /**
     * Thrown inside {@link #analyzeIfCheap} where the analysis would hand a statement to the
     * parser executor; it unwinds the analysis, which then gives no answer. Never escapes this class.
     */
    private static final class NeedsParser extends RuntimeException {
        static final NeedsParser INSTANCE = new NeedsParser();

        private NeedsParser() {
            super("the statement needs the parser", null, false, false);
        }
    }

    /** Why a parse gave no tree; only deterministic failures may be cached. */
    private enum ParseFailure { NONE, REJECTED, TRANSIENT }

    private final Settings settings;
    private final ThreadPoolExecutor executor;
    private final Cache<String, StatementFacts> cache;
    /**
     * JSqlParser's first parse loads and initialises its very large generated parser, which
     * takes far longer than the budget; statements wait for this warm-up instead of failing.
     */
    private final Future<?> warmUp;
    private final AtomicLong parses = new AtomicLong();
    private final AtomicLong simpleAnswers = new AtomicLong();

    public SqlAnalyzer() {
        this(Settings.defaults());
    }

    public SqlAnalyzer(Settings settings) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.executor = new ThreadPoolExecutor(settings.parserThreads(), settings.parserThreads(),
                30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(settings.queueCapacity()),
                new ParserThreadFactory(), new ThreadPoolExecutor.AbortPolicy());
        this.executor.allowCoreThreadTimeOut(true);
        // Maintenance (eviction) on the calling thread: by default Caffeine hands it to the
        // common ForkJoinPool after writes, and every statement seen for the first time is a
        // write, so it would pay a thread wake-up and contend with that worker for the eviction
        // lock. Evicting in place is cheaper on a busy machine (measured: docs/performance.md).
        this.cache = Caffeine.newBuilder().maximumSize(settings.cacheEntries()).executor(Runnable::run).build();
        this.warmUp = executor.submit(() -> new CCJSqlParser(new StringProvider(WARM_UP_STATEMENT)).Statement());
    }

    /** Parser invocations so far; with a warm cache, repeated traffic leaves it unchanged. */
    public long parses() {
        return parses.get();
    }

    /** Statements whose facts {@link SimpleStatementAnalyzer} produced without the parser, for metrics. */
    public long simpleAnswers() {
        return simpleAnswers.get();
    }

    public Settings settings() {
        return settings;
    }

    /**
     * Analyses one simple-protocol Query message, or the text of one Parse message, for a
     * session with {@code standard_conforming_strings = on} (the server default).
     */
    public QueryAnalysis analyze(String sql) {
        return analyze(sql, true);
    }

    /**
     * As {@link #analyze(String)}, for a session whose {@code standard_conforming_strings} is as
     * given (the server reports it in ParameterStatus). It changes where a plain string ends, so
     * a proxy that ignored it could be shown SQL hidden inside what it takes for a string.
     */
    public QueryAnalysis analyze(String sql, boolean standardConformingStrings) {
        return analyze(sql, standardConformingStrings, true);
    }

    /**
     * The analysis {@link #analyze(String, boolean)} would return, when it can be had without
     * the parser executor, so without blocking: every statement's facts are cached, read by
     * {@link SimpleStatementAnalyzer}, or read from tokens alone (utility statements without an
     * embedded query). Empty when a statement needs the parser, or when the message is longer
     * than {@link #CHEAP_ANALYSIS_MAX_LENGTH}; the caller then hands {@link #analyze} to a worker.
     * An answer is the same analysis the full call gives, since it runs the same code up to the
     * point where the parser would be called.
     */
    public Optional<QueryAnalysis> analyzeIfCheap(String sql, boolean standardConformingStrings) {
        if (sql != null && sql.length() > CHEAP_ANALYSIS_MAX_LENGTH) {
            return Optional.empty();
        }
        try {
            return Optional.of(analyze(sql, standardConformingStrings, false));
        } catch (NeedsParser e) {
            return Optional.empty();
        }
    }

    private QueryAnalysis analyze(String sql, boolean standardConformingStrings, boolean parserAllowed) {
        if (sql == null) {
            return new QueryAnalysis(List.of(), Set.of());
        }
        List<StatementFacts> statements = new ArrayList<>();
        try {
            List<Token> tokens = SqlLexer.tokenize(sql, standardConformingStrings);
            List<LexedStatement> lexed = StatementSplitter.split(sql, tokens);
            for (LexedStatement statement : lexed) {
                statements.add(analyzeStatement(statement, parserAllowed));
            }
            if (lexed.isEmpty()) {
                statements.add(emptyStatement());
            }
        } catch (NeedsParser e) {
            throw e;
        } catch (RuntimeException | StackOverflowError e) {
            LOG.debug("SQL analysis failed; the message is unparsed", e);
            statements.clear();
            statements.add(failed(sql));
        }
        return new QueryAnalysis(statements,
                statements.size() > 1 ? Set.of(Heuristic.STACKED_STATEMENTS) : Set.of());
    }

    /** Number of cached statements, for metrics. */
    public long cachedStatements() {
        return cache.estimatedSize();
    }

    private static StatementFacts emptyStatement() {
        String normalized = "";
        return new StatementFacts(StatementKind.EMPTY, Normalizer.fingerprint(normalized), normalized, true,
                List.of(), List.of(), List.of(), Set.of());
    }

    private static StatementFacts failed(String sql) {
        String normalized = "";
        return new StatementFacts(StatementKind.UNKNOWN, Normalizer.fingerprint(sql), normalized, false,
                List.of(), List.of(), List.of(), Set.of(Heuristic.UNPARSED));
    }

    private StatementFacts analyzeStatement(LexedStatement statement, boolean parserAllowed) {
        StatementKind kind = StatementClassifier.classify(statement);
        String normalized = Normalizer.normalize(statement);
        // A cache hit carries its fingerprint: hashing the text again would cost a SHA-256 per
        // statement on the event loop for nothing.
        StatementFacts facts = statement.wellFormed() ? cache.getIfPresent(normalized) : null;
        String fingerprint = facts != null ? facts.fingerprint() : Normalizer.fingerprint(normalized);
        try {
            if (!statement.wellFormed()) {
                // The normalized text hides an unterminated string or comment, so never use the cache.
                facts = new FactsBuilder().build(kind, fingerprint, normalized, false);
            } else {
                if (facts == null) {
                    Outcome outcome = simple(statement, kind, fingerprint, normalized);
                    if (outcome == null) {
                        outcome = compute(statement.significant(), kind, fingerprint, normalized, parserAllowed);
                    }
                    facts = outcome.facts();
                    if (outcome.cacheable()) {
                        cache.put(normalized, facts);
                    }
                }
            }
        } catch (NeedsParser e) {
            throw e;
        } catch (RuntimeException | StackOverflowError e) {
            LOG.debug("analysis of statement {} failed; it is unparsed", fingerprint, e);
            facts = new FactsBuilder().build(kind, fingerprint, normalized, false);
        }
        Set<Heuristic> tokenFindings = TokenHeuristics.scan(statement, kind);
        if (tokenFindings.isEmpty() || facts.findings().containsAll(tokenFindings)) {
            return facts;
        }
        Set<Heuristic> findings = EnumSet.noneOf(Heuristic.class);
        findings.addAll(facts.findings());
        findings.addAll(tokenFindings);
        return new StatementFacts(facts.kind(), facts.fingerprint(), facts.normalized(), facts.parsed(),
                facts.tables(), facts.columns(), facts.functions(), findings);
    }

    private record Outcome(StatementFacts facts, boolean cacheable) {
    }

    /**
     * The common OLTP shapes, answered on the calling thread: the hand-off to the parser executor
     * and back costs more than reading such a statement from its tokens. Null when the statement
     * needs the parser.
     */
    private Outcome simple(LexedStatement statement, StatementKind kind, String fingerprint, String normalized) {
        if (!settings.simpleFastPath() || nesting(statement.significant()) > settings.maxNesting()) {
            // Too deep for the parser is unparsed there; the fast path must not answer it either.
            return null;
        }
        Optional<StatementFacts> facts = SimpleStatementAnalyzer.analyze(statement, kind, fingerprint, normalized,
                settings.maxParseLength());
        if (facts.isEmpty()) {
            return null;
        }
        simpleAnswers.incrementAndGet();
        return new Outcome(facts.get(), true);
    }

    private Outcome compute(List<Token> words, StatementKind kind, String fingerprint, String normalized,
            boolean parserAllowed) {
        Collector collector = new Collector(parserAllowed);
        boolean parsed = collector.collect(words, collector.facts);
        return new Outcome(collector.facts.build(kind, fingerprint, normalized, parsed), collector.failure == ParseFailure.NONE);
    }

    /** Collects one statement's facts, recursing into embedded statements (EXPLAIN, COPY (query), ...). */
    private final class Collector implements UtilityFacts.Nested {
        final FactsBuilder facts = new FactsBuilder();
        /** False in {@link #analyzeIfCheap}: reaching the parser ends the analysis without an answer. */
        private final boolean parserAllowed;
        ParseFailure failure = ParseFailure.NONE;

        Collector(boolean parserAllowed) {
            this.parserAllowed = parserAllowed;
        }

        @Override
        public boolean collect(List<Token> words, FactsBuilder into) {
            StatementKind kind = StatementClassifier.classify(words);
            if (PARSER_KINDS.contains(kind)) {
                return parseInto(words, into);
            }
            return UtilityFacts.collect(kind, words, into, this);
        }

        private boolean parseInto(List<Token> words, FactsBuilder into) {
            if (nesting(words) > settings.maxNesting()) {
                return false;
            }
            List<Token> rewritten = ParserInput.rewrite(words);
            String input = ParserInput.render(rewritten);
            if (input.length() > settings.maxParseLength()) {
                return false;
            }
            if (!parserAllowed) {
                throw NeedsParser.INSTANCE;
            }
            Statement statement = parse(input);
            if (statement == null) {
                return false;
            }
            // Collect into a scratch builder first: a walk that gives up half way must not leave
            // partial facts that look complete.
            FactsBuilder scratch = new FactsBuilder();
            QueryFactsCollector walker = new QueryFactsCollector(scratch);
            try {
                walker.statement(statement);
            } catch (QueryFactsCollector.UnsupportedConstruct e) {
                LOG.debug("unsupported construct in {}: {}", input, e.getMessage());
                return false;
            }
            int expected = ParserInput.queryBodies(rewritten);
            if (walker.queryBodies() != expected) {
                // A subquery sits where the walker does not look: its tables would be missing.
                LOG.debug("walker saw {} of {} query bodies in {}", walker.queryBodies(), expected, input);
                return false;
            }
            into.mergeFrom(scratch);
            return true;
        }

        private Statement parse(String input) {
            awaitWarmUp();
            parses.incrementAndGet();
            CCJSqlParser parser = new CCJSqlParser(new StringProvider(input));
            Future<Statement> future;
            try {
                future = executor.submit(parser::Statement);
            } catch (RejectedExecutionException e) {
                LOG.debug("parser queue full; statement is unparsed");
                failure = ParseFailure.REJECTED;
                return null;
            }
            try {
                return future.get(settings.budget().toNanos(), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                // JSqlParser polls this flag between productions; cancel() alone cannot stop it.
                parser.interrupted = true;
                future.cancel(true);
                failure = ParseFailure.TRANSIENT;
                LOG.debug("parse exceeded its budget of {}: {}", settings.budget(), input);
                return null;
            } catch (ExecutionException e) {
                LOG.debug("JSqlParser rejected {}: {}", input, e.getCause() == null ? e : e.getCause().getMessage());
                return null;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                parser.interrupted = true;
                future.cancel(true);
                failure = ParseFailure.TRANSIENT;
                return null;
            }
        }
    }

    private void awaitWarmUp() {
        if (warmUp.isDone()) {
            return;
        }
        try {
            warmUp.get(WARM_UP_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException | CancellationException e) {
            LOG.debug("parser warm-up did not finish cleanly", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static int nesting(List<Token> words) {
        int depth = 0;
        int max = 0;
        for (Token token : words) {
            if (token.is(TokenType.LEFT_PAREN) || token.is(TokenType.LEFT_BRACKET)) {
                max = Math.max(max, ++depth);
            } else if (token.is(TokenType.RIGHT_PAREN) || token.is(TokenType.RIGHT_BRACKET)) {
                depth--;
            }
        }
        return max;
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }

    private static final class ParserThreadFactory implements ThreadFactory {
        private final AtomicInteger count = new AtomicInteger();

        @Override
        public Thread newThread(Runnable task) {
            Thread thread = new Thread(task, "sql-parser-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        }
    }
}
