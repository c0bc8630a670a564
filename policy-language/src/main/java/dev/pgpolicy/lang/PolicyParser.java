package dev.pgpolicy.lang;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import org.antlr.v4.runtime.BailErrorStrategy;
import org.antlr.v4.runtime.CharStreams;
import org.antlr.v4.runtime.CommonTokenStream;
import org.antlr.v4.runtime.ParserRuleContext;
import org.antlr.v4.runtime.Token;
import org.antlr.v4.runtime.atn.PredictionMode;
import org.antlr.v4.runtime.misc.ParseCancellationException;

/**
 * Front end of the policy and test languages. It never throws on user input: every problem is a
 * {@link Diagnostic} with a position, parsing continues after the first error, and input is
 * bounded in size and nesting so a hostile or broken file cannot exhaust the stack or the heap.
 *
 * <p>Parsing runs in ANTLR's SLL mode first, which is linear in practice and enough for every
 * correct file; only a file SLL rejects is parsed again in full LL mode with error recovery, which
 * is where the precise messages come from.
 */
public final class PolicyParser {

    /** Policy sets are written by hand; a megabyte is far beyond any real one. */
    public static final int MAX_INPUT_CHARS = 1 << 20;

    /** Parentheses plus {@code not} levels; deeper expressions are unreadable and risk the stack. */
    public static final int MAX_NESTING = 64;

    private PolicyParser() {
    }

    public static ParsedPolicy parse(String fileName, String text) {
        Objects.requireNonNull(fileName, "fileName");
        Span start = new Span(fileName, 1, 1);
        List<Diagnostic> diagnostics = new ArrayList<>();
        PolicyGrammarParser.PolicyFileContext tree =
                parseTree(fileName, text, diagnostics, PolicyGrammarParser::policyFile);
        PolicyFile ast = tree == null
                ? new PolicyFile(fileName, List.of(), start)
                : safeBuild(fileName, diagnostics, () -> new AstBuilder(fileName, diagnostics).policyFile(tree),
                        () -> new PolicyFile(fileName, List.of(), start));
        diagnostics.sort(Diagnostic.ORDER);
        return new ParsedPolicy(ast, diagnostics);
    }

    public static ParsedTests parseTests(String fileName, String text) {
        Objects.requireNonNull(fileName, "fileName");
        Span start = new Span(fileName, 1, 1);
        List<Diagnostic> diagnostics = new ArrayList<>();
        PolicyGrammarParser.TestFileContext tree =
                parseTree(fileName, text, diagnostics, PolicyGrammarParser::testFile);
        TestFile ast = tree == null
                ? new TestFile(fileName, List.of(), start)
                : safeBuild(fileName, diagnostics, () -> new AstBuilder(fileName, diagnostics).testFile(tree),
                        () -> new TestFile(fileName, List.of(), start));
        diagnostics.sort(Diagnostic.ORDER);
        return new ParsedTests(ast, diagnostics);
    }

    private static <T extends ParserRuleContext> T parseTree(
            String fileName, String text, List<Diagnostic> diagnostics,
            Function<PolicyGrammarParser, T> startRule) {
        if (text == null) {
            diagnostics.add(Diagnostic.error(new Span(fileName, 1, 1), "file has no content"));
            return null;
        }
        if (text.length() > MAX_INPUT_CHARS) {
            diagnostics.add(Diagnostic.error(new Span(fileName, 1, 1), "file is " + text.length()
                    + " characters long; the limit is " + MAX_INPUT_CHARS));
            return null;
        }
        PolicyGrammarLexer lexer = new PolicyGrammarLexer(CharStreams.fromString(text, fileName));
        lexer.removeErrorListeners();
        CommonTokenStream tokens = new CommonTokenStream(lexer);
        tokens.fill();
        if (!withinNestingLimit(fileName, tokens, diagnostics)) {
            return null;
        }

        PolicyGrammarParser parser = new PolicyGrammarParser(tokens);
        parser.removeErrorListeners();
        parser.getInterpreter().setPredictionMode(PredictionMode.SLL);
        parser.setErrorHandler(new BailErrorStrategy());
        try {
            return startRule.apply(parser);
        } catch (ParseCancellationException sllFailed) {
            // Either a real syntax error or a construct SLL cannot decide: LL settles which.
        }
        tokens.seek(0);
        parser.reset();
        parser.getInterpreter().setPredictionMode(PredictionMode.LL);
        parser.setErrorHandler(new StatementRecovery());
        parser.addErrorListener(new SyntaxErrorListener(fileName, tokens, diagnostics));
        try {
            return startRule.apply(parser);
        } catch (ParseCancellationException tooManyErrors) {
            return null;
        }
    }

    /**
     * Rejects expressions nested deeper than {@link #MAX_NESTING} before the recursive-descent
     * parser sees them. Counting tokens is enough: only parentheses and {@code not} recurse.
     */
    private static boolean withinNestingLimit(String fileName, CommonTokenStream tokens, List<Diagnostic> diagnostics) {
        int parentheses = 0;
        int pendingNots = 0;
        for (Token token : tokens.getTokens()) {
            switch (token.getType()) {
                case PolicyGrammarLexer.LPAREN -> parentheses++;
                case PolicyGrammarLexer.RPAREN -> {
                    parentheses = Math.max(0, parentheses - 1);
                    pendingNots = 0;
                }
                case PolicyGrammarLexer.NOT -> pendingNots++;
                case PolicyGrammarLexer.SEMI, PolicyGrammarLexer.LBRACE, PolicyGrammarLexer.RBRACE -> {
                    parentheses = 0;
                    pendingNots = 0;
                }
                default -> pendingNots = 0;
            }
            if (parentheses + pendingNots > MAX_NESTING) {
                diagnostics.add(Diagnostic.error(
                        new Span(fileName, token.getLine(), token.getCharPositionInLine() + 1),
                        "expression nested deeper than " + MAX_NESTING + " levels"));
                return false;
            }
        }
        return true;
    }

    private interface Build<T> {
        T run();
    }

    /**
     * The builder is written to cope with any tree the error-recovering parser produces; this net
     * turns a defect in it into a diagnostic (and an empty file, which loads nothing) instead of
     * an exception escaping to the caller.
     */
    private static <T> T safeBuild(String fileName, List<Diagnostic> diagnostics, Build<T> build, Build<T> empty) {
        try {
            return build.run();
        } catch (RuntimeException | StackOverflowError e) {
            diagnostics.add(Diagnostic.error(new Span(fileName, 1, 1),
                    "internal error while reading this file (" + e.getClass().getSimpleName() + "); nothing from it is loaded"));
            return empty.run();
        }
    }
}
