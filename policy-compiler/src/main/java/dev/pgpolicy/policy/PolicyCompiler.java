package dev.pgpolicy.policy;

import dev.pgpolicy.lang.AccessRule;
import dev.pgpolicy.lang.Annotation;
import dev.pgpolicy.lang.AuditRule;
import dev.pgpolicy.lang.Diagnostic;
import dev.pgpolicy.lang.Effect;
import dev.pgpolicy.lang.Expr;
import dev.pgpolicy.lang.GuardRule;
import dev.pgpolicy.lang.LimitEntry;
import dev.pgpolicy.lang.LimitKind;
import dev.pgpolicy.lang.LimitRule;
import dev.pgpolicy.lang.MaskCall;
import dev.pgpolicy.lang.MaskRule;
import dev.pgpolicy.lang.ModeDirective;
import dev.pgpolicy.lang.Name;
import dev.pgpolicy.lang.ParsedPolicy;
import dev.pgpolicy.lang.PatternPart;
import dev.pgpolicy.lang.PolicyFile;
import dev.pgpolicy.lang.PolicyParser;
import dev.pgpolicy.lang.Principal;
import dev.pgpolicy.lang.PrincipalTerm;
import dev.pgpolicy.lang.Resource;
import dev.pgpolicy.lang.ResourceKind;
import dev.pgpolicy.lang.RoleDefinition;
import dev.pgpolicy.lang.Span;
import dev.pgpolicy.lang.Statement;
import dev.pgpolicy.sql.Action;
import dev.pgpolicy.sql.Heuristic;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import java.util.stream.Collectors;

/**
 * Compiles a policy set: every {@code .pgpolicy} file of a directory, together, in any order.
 * Reports every problem at once (syntax, unknown names, types, conflicting rules) and yields a
 * {@link PolicySet} only when there is no error, so a broken set never loads. Never throws on
 * user input.
 */
public final class PolicyCompiler {

    /** Action groups of LANGUAGE.md ("ACTIONS"). */
    static final Map<String, Set<Action>> ACTION_GROUPS = Map.of(
            "read", EnumSet.of(Action.SELECT, Action.COPY_OUT),
            "write", EnumSet.of(Action.INSERT, Action.UPDATE, Action.DELETE, Action.MERGE, Action.TRUNCATE, Action.COPY_IN),
            "session", EnumSet.of(Action.TRANSACTION, Action.SET, Action.SHOW, Action.DISCARD, Action.PREPARE),
            "all", EnumSet.allOf(Action.class));

    /** Actions whose requests name tables (and their columns); the others are calls or object-less. */
    private static final Set<Action> TABLE_ACTIONS = EnumSet.of(Action.SELECT, Action.INSERT, Action.UPDATE,
            Action.DELETE, Action.MERGE, Action.TRUNCATE, Action.COPY_IN, Action.COPY_OUT, Action.COPY_PROGRAM,
            Action.DDL, Action.LOCK, Action.MAINTENANCE, Action.FILTER, Action.UNPARSED, Action.EXPLAIN, Action.PREPARE);

    private static final int MAX_IDENTIFIER_BYTES = 63;

    private static final Pattern RULE_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.:/-]*");

    private PolicyCompiler() {
    }

    /** Parses and compiles the files of one policy set. */
    public static CompileResult compile(List<SourceFile> files) {
        List<SourceFile> sorted = new ArrayList<>(files);
        sorted.sort(Comparator.comparing(SourceFile::name));
        List<Diagnostic> diagnostics = new ArrayList<>();
        List<PolicyFile> asts = new ArrayList<>();
        for (SourceFile file : sorted) {
            ParsedPolicy parsed = PolicyParser.parse(file.name(), file.text());
            diagnostics.addAll(parsed.diagnostics());
            asts.add(parsed.ast());
        }
        return compileParsed(asts, diagnostics, digest(sorted));
    }

    /** Compiles already parsed files (for tools that hold ASTs); the revision digests their syntax trees. */
    public static CompileResult compileAsts(List<PolicyFile> files) {
        List<SourceFile> asText = files.stream().map(f -> new SourceFile(f.fileName(), f.toString())).toList();
        return compileParsed(files, List.of(), digest(asText));
    }

    private static CompileResult compileParsed(List<PolicyFile> files, List<Diagnostic> parseDiagnostics, String revision) {
        List<Diagnostic> diagnostics = new ArrayList<>(parseDiagnostics);
        try {
            PolicySet set = new Compilation(diagnostics, revision).run(files);
            diagnostics.sort(Diagnostic.ORDER);
            boolean failed = diagnostics.stream().anyMatch(Diagnostic::isError);
            return new CompileResult(diagnostics, failed ? Optional.empty() : Optional.of(set));
        } catch (RuntimeException | StackOverflowError e) {
            // A defect in the compiler must not load a half-checked set, nor escape as an exception.
            String file = files.isEmpty() ? "<policy>" : files.get(0).fileName();
            diagnostics.add(Diagnostic.error(new Span(file, 1, 1), "internal compiler error (" + e.getClass().getSimpleName() + "); the policy set is not loaded"));
            diagnostics.sort(Diagnostic.ORDER);
            return new CompileResult(diagnostics, Optional.empty());
        }
    }

    /** SHA-256 over the names and texts of the files in name order: the content part of the revision. */
    static String digest(List<SourceFile> sortedFiles) {
        try {
            MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
            for (SourceFile file : sortedFiles) {
                sha256.update(file.name().getBytes(StandardCharsets.UTF_8));
                sha256.update((byte) 0);
                sha256.update(file.text().getBytes(StandardCharsets.UTF_8));
                sha256.update((byte) 0);
            }
            return HexFormat.of().formatHex(sha256.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every Java platform", e);
        }
    }

    /** The state of one compilation. */
    private static final class Compilation implements ExpressionCompiler.Roles {

        private enum Visit { IN_PROGRESS, DONE }

        private final List<Diagnostic> diagnostics;
        private final String revision;
        private final Map<String, RoleDefinition> roleDefinitions = new HashMap<>();
        private final Map<String, Condition> compiledRoles = new HashMap<>();
        private final Map<String, Boolean> roleReadsTime = new HashMap<>();
        private final Map<String, Visit> roleVisits = new HashMap<>();
        private final Set<String> usedRoles = new HashSet<>();
        private final ExpressionCompiler expressions;
        private final List<CompiledRule> rules = new ArrayList<>();
        private final List<Glob> databasePatterns = new ArrayList<>();
        private final Map<String, Span> ruleIds = new HashMap<>();
        private final Map<String, MaskSeen> masksSeen = new HashMap<>();
        private boolean timeDependent;

        private record MaskSeen(MaskSpec mask, Span span) {
        }

        Compilation(List<Diagnostic> diagnostics, String revision) {
            this.diagnostics = diagnostics;
            this.revision = revision;
            this.expressions = new ExpressionCompiler(diagnostics, this);
        }

        PolicySet run(List<PolicyFile> files) {
            Map<String, PolicyFile> byName = new TreeMap<>();
            for (PolicyFile file : files) {
                if (byName.put(file.fileName(), file) != null) {
                    error(file.span(), "file " + file.fileName() + " is part of the set twice");
                }
            }
            collectRoles(byName.values());
            for (String role : roleDefinitions.keySet().stream().sorted().toList()) {
                resolveRole(role);
            }
            boolean allDetect = !byName.isEmpty();
            for (PolicyFile file : byName.values()) {
                boolean detect = fileMode(file);
                allDetect &= detect;
                for (Statement statement : file.statements()) {
                    compileStatement(statement, detect);
                }
            }
            expressions.takeReadsTime();
            // Unused roles are worth a note on a set that otherwise loads; next to errors they are noise.
            boolean hasErrors = diagnostics.stream().anyMatch(Diagnostic::isError);
            for (RoleDefinition role : roleDefinitions.values()) {
                if (!hasErrors && !usedRoles.contains(role.name().text())) {
                    diagnostics.add(Diagnostic.warning(role.name().span(), "role '" + role.name().text() + "' is never used"));
                }
            }
            return new PolicySet(revision, rules, databasePatterns, timeDependent, allDetect,
                    byName.keySet().stream().toList());
        }

        // ------------------------------------------------------------------ roles

        private void collectRoles(Iterable<PolicyFile> files) {
            for (PolicyFile file : files) {
                for (Statement statement : file.statements()) {
                    if (!(statement instanceof RoleDefinition role)) {
                        continue;
                    }
                    String name = role.name().text();
                    if (Attribute.fromKeyword(name).isPresent()) {
                        error(role.name().span(), "role name '" + name + "' is a session attribute");
                    } else if (ExpressionCompiler.WEEKDAYS.containsKey(name)) {
                        error(role.name().span(), "role name '" + name + "' is a weekday");
                    } else if (roleDefinitions.containsKey(name)) {
                        error(role.name().span(), "role '" + name + "' is already defined at "
                                + roleDefinitions.get(name).name().span());
                    } else {
                        roleDefinitions.put(name, role);
                    }
                }
            }
        }

        /** Compiles a role after the roles it uses; a role that reaches itself is an error at its definition. */
        private Optional<Condition> resolveRole(String name) {
            RoleDefinition definition = roleDefinitions.get(name);
            if (definition == null) {
                return Optional.empty();
            }
            Visit visit = roleVisits.get(name);
            if (visit == Visit.DONE) {
                return Optional.of(compiledRoles.get(name));
            }
            if (visit == Visit.IN_PROGRESS) {
                error(definition.name().span(), "role '" + name + "' is defined in terms of itself");
                compiledRoles.put(name, new Conditions.Constant(Tri.ERROR));
                roleVisits.put(name, Visit.DONE);
                return Optional.of(compiledRoles.get(name));
            }
            roleVisits.put(name, Visit.IN_PROGRESS);
            boolean outerReadsTime = expressions.takeReadsTime();
            Condition condition = expressions.condition(definition.expr());
            boolean readsTime = expressions.takeReadsTime();
            if (roleVisits.get(name) == Visit.DONE) {
                // A cycle through this role was reported while compiling its body.
                expressions.markReadsTime(outerReadsTime);
                return Optional.of(compiledRoles.get(name));
            }
            compiledRoles.put(name, condition);
            roleReadsTime.put(name, readsTime);
            roleVisits.put(name, Visit.DONE);
            expressions.markReadsTime(outerReadsTime);
            return Optional.of(condition);
        }

        @Override
        public Optional<Condition> resolve(String name, Span usedAt) {
            usedRoles.add(name);
            return resolveRole(name);
        }

        @Override
        public boolean readsTime(String name) {
            return roleReadsTime.getOrDefault(name, false);
        }

        // ------------------------------------------------------------------ statements

        private boolean fileMode(PolicyFile file) {
            ModeDirective seen = null;
            boolean detect = false;
            for (Statement statement : file.statements()) {
                if (statement instanceof ModeDirective mode) {
                    if (seen != null) {
                        error(mode.span(), "mode is already set at " + seen.span());
                        continue;
                    }
                    seen = mode;
                    switch (mode.mode().text()) {
                        case "detect" -> detect = true;
                        case "enforce" -> detect = false;
                        default -> error(mode.mode().span(), "unknown mode '" + mode.mode().text()
                                + "'; expected detect or enforce");
                    }
                }
            }
            return detect;
        }

        private void compileStatement(Statement statement, boolean fileDetect) {
            if (statement instanceof AccessRule rule) {
                accessRule(rule, fileDetect);
            } else if (statement instanceof MaskRule rule) {
                maskRule(rule, fileDetect);
            } else if (statement instanceof LimitRule rule) {
                limitRule(rule, fileDetect);
            } else if (statement instanceof GuardRule rule) {
                guardRule(rule, fileDetect);
            } else if (statement instanceof AuditRule rule) {
                auditRule(rule);
            } else if (!(statement instanceof RoleDefinition) && !(statement instanceof ModeDirective)) {
                throw new AssertionError("unhandled statement " + statement.getClass());
            }
        }

        private void accessRule(AccessRule rule, boolean fileDetect) {
            Annotations annotations = annotations(rule.annotations(), fileDetect);
            Condition principal = principal(rule.principal());
            List<Condition> parts = new ArrayList<>(List.of(principal));
            if (rule.when() != null) {
                parts.add(expressions.condition(rule.when()));
            }
            if (rule.unless() != null) {
                parts.add(new Conditions.Negation(expressions.condition(rule.unless())));
            }
            boolean readsTime = expressions.takeReadsTime();
            Set<Action> actions = actions(rule.actions());
            List<ResourceMatcher> resources = new ArrayList<>();
            for (Resource resource : rule.resources()) {
                ResourceMatcher matcher = resource(resource);
                if (matcher != null) {
                    checkApplicable(resource, actions);
                    resources.add(matcher);
                }
            }
            CompiledRule.Head head = head(annotations, rule.span(), combine(parts), rule.effect() == Effect.DENY,
                    readsTime);
            rules.add(new CompiledRule.Access(head, rule.effect(), Collections.unmodifiableSet(actions), List.copyOf(resources)));
        }

        private void maskRule(MaskRule rule, boolean fileDetect) {
            Annotations annotations = annotations(rule.annotations(), fileDetect);
            List<Condition> parts = new ArrayList<>(List.of(principal(rule.principal())));
            if (rule.when() != null) {
                parts.add(expressions.condition(rule.when()));
            }
            boolean readsTime = expressions.takeReadsTime();
            MaskSpec mask = maskSpec(rule.mask());
            List<ResourceMatcher> columns = new ArrayList<>();
            for (Resource column : rule.columns()) {
                ResourceMatcher matcher = resource(column);
                if (matcher == null) {
                    continue;
                }
                columns.add(matcher);
                if (mask != null) {
                    String key = principalKey(rule.principal()) + " " + matcher.text();
                    MaskSeen seen = masksSeen.get(key);
                    if (seen == null) {
                        masksSeen.put(key, new MaskSeen(mask, column.span()));
                    } else if (!seen.mask().equals(mask)) {
                        error(column.span(), "column " + matcher.text() + " already has a different mask for "
                                + principalKey(rule.principal()) + " at " + seen.span());
                    }
                }
            }
            CompiledRule.Head head = head(annotations, rule.span(), combine(parts), true, readsTime);
            if (mask != null) {
                rules.add(new CompiledRule.Mask(head, List.copyOf(columns), mask));
            }
        }

        private void limitRule(LimitRule rule, boolean fileDetect) {
            Condition principal = principal(rule.principal());
            boolean readsTime = expressions.takeReadsTime();
            String id = defaultId(rule.span());
            List<EffectiveLimit> entries = new ArrayList<>();
            for (LimitEntry entry : rule.entries()) {
                EffectiveLimit limit = limitEntry(entry, id);
                if (limit != null) {
                    entries.add(limit);
                }
            }
            CompiledRule.Head head = new CompiledRule.Head(rules.size(), id, principal, true, fileDetect, "", rule.span());
            timeDependent |= readsTime;
            rules.add(new CompiledRule.Limit(head, List.copyOf(entries)));
        }

        private EffectiveLimit limitEntry(LimitEntry entry, String ruleId) {
            LimitKind kind = entry.kind();
            if (kind.isDuration()) {
                if (entry.duration().isZero() || entry.duration().isNegative()) {
                    error(entry.span(), kind.name().toLowerCase(Locale.ROOT) + " must be longer than zero");
                    return null;
                }
                return new EffectiveLimit(kind, LimitScope.NONE, 0, entry.duration(), ruleId);
            }
            if (entry.amount() < 1) {
                error(entry.span(), "a limit of " + entry.amount() + " would refuse everything; use a deny rule instead");
                return null;
            }
            LimitScope scope = LimitScope.NONE;
            if (entry.scope() != null) {
                Set<LimitScope> allowed = switch (kind) {
                    case QUERIES_PER_SECOND -> EnumSet.of(LimitScope.USER, LimitScope.ROLE, LimitScope.CLIENT_IP);
                    case CONCURRENT -> EnumSet.of(LimitScope.USER, LimitScope.ROLE);
                    case CONNECTIONS -> EnumSet.of(LimitScope.USER, LimitScope.CLIENT_IP);
                    default -> EnumSet.noneOf(LimitScope.class);
                };
                Optional<LimitScope> parsed = LimitScope.fromKeyword(entry.scope().text());
                if (parsed.isEmpty() || !allowed.contains(parsed.get())) {
                    error(entry.scope().span(), "this limit counts per " + allowed.stream().map(LimitScope::keyword)
                            .collect(Collectors.joining(" or ")) + ", not per '" + entry.scope().text() + "'");
                    return null;
                }
                scope = parsed.get();
            }
            return new EffectiveLimit(kind, scope, entry.amount(), null, ruleId);
        }

        private void guardRule(GuardRule rule, boolean fileDetect) {
            Condition principal = principal(rule.principal());
            boolean readsTime = expressions.takeReadsTime();
            Optional<Heuristic> heuristic = Heuristic.fromKeyword(rule.heuristic().text());
            if (heuristic.isEmpty()) {
                error(rule.heuristic().span(), "unknown heuristic '" + rule.heuristic().text() + "'"
                        + Suggestions.didYouMean(rule.heuristic().text(),
                        Arrays.stream(Heuristic.values()).map(Heuristic::keyword).toList()));
            }
            Optional<GuardAction> action = GuardAction.fromKeyword(rule.action().text());
            if (action.isEmpty()) {
                error(rule.action().span(), "unknown guard action '" + rule.action().text() + "'; expected deny, warn or off");
            }
            if (heuristic.isEmpty() || action.isEmpty()) {
                return;
            }
            CompiledRule.Head head = new CompiledRule.Head(rules.size(), defaultId(rule.span()), principal, true,
                    fileDetect, "", rule.span());
            timeDependent |= readsTime;
            rules.add(new CompiledRule.Guard(head, heuristic.get(), action.get()));
        }

        private void auditRule(AuditRule rule) {
            Condition principal = principal(rule.principal());
            boolean readsTime = expressions.takeReadsTime();
            Optional<AuditLevel> level = AuditLevel.fromKeyword(rule.level().text());
            if (level.isEmpty()) {
                error(rule.level().span(), "unknown audit level '" + rule.level().text()
                        + "'; expected none, connections, metadata, statements or full");
                return;
            }
            CompiledRule.Head head = new CompiledRule.Head(rules.size(), defaultId(rule.span()), principal, true,
                    false, "", rule.span());
            timeDependent |= readsTime;
            rules.add(new CompiledRule.Audit(head, level.get()));
        }

        // ------------------------------------------------------------------ parts

        private record Annotations(String id, String reason, boolean detect) {
        }

        private Annotations annotations(List<Annotation> annotations, boolean fileDetect) {
            String id = null;
            String reason = "";
            boolean detect = fileDetect;
            Map<String, Annotation> seen = new HashMap<>();
            for (Annotation annotation : annotations) {
                Annotation previous = seen.put(annotation.name(), annotation);
                if (previous != null) {
                    error(annotation.span(), "@" + annotation.name() + " is given twice");
                    continue;
                }
                switch (annotation.name()) {
                    case "id" -> {
                        if (!RULE_ID.matcher(annotation.value()).matches() || annotation.value().startsWith("guard.")) {
                            error(annotation.span(), "rule id \"" + annotation.value() + "\" must start with a letter"
                                    + " or digit, contain only letters, digits and _ . : / -, and not start with guard.");
                        } else {
                            Span first = ruleIds.putIfAbsent(annotation.value(), annotation.span());
                            if (first != null) {
                                error(annotation.span(), "duplicate @id \"" + annotation.value() + "\", first used at " + first);
                            }
                            id = annotation.value();
                        }
                    }
                    case "reason" -> reason = annotation.value();
                    case "mode" -> {
                        switch (annotation.value()) {
                            case "detect" -> detect = true;
                            case "enforce" -> detect = false;
                            default -> error(annotation.span(), "unknown mode '" + annotation.value()
                                    + "'; expected detect or enforce");
                        }
                    }
                    default -> error(annotation.span(), "unknown annotation @" + annotation.name()
                            + "; expected @id, @reason or @mode");
                }
            }
            return new Annotations(id, reason, detect);
        }

        private CompiledRule.Head head(Annotations annotations, Span span, Condition condition, boolean errorMeansMatch,
                                       boolean readsTime) {
            timeDependent |= readsTime;
            String id = annotations.id() != null ? annotations.id() : defaultId(span);
            return new CompiledRule.Head(rules.size(), id, condition, errorMeansMatch, annotations.detect(),
                    annotations.reason(), span);
        }

        private String defaultId(Span span) {
            return span.file() + ":" + span.line();
        }

        private static Condition combine(List<Condition> parts) {
            return parts.size() == 1 ? parts.get(0) : new Conditions.AllOf(List.copyOf(parts));
        }

        private Condition principal(Principal principal) {
            List<Condition> terms = new ArrayList<>();
            for (PrincipalTerm term : principal.terms()) {
                if (term.any()) {
                    terms.add(Conditions.Constant.TRUE);
                    continue;
                }
                usedRoles.add(term.role());
                Optional<Condition> role = resolveRole(term.role());
                if (role.isEmpty()) {
                    error(term.span(), "unknown role '" + term.role() + "'"
                            + Suggestions.didYouMean(term.role(), roleDefinitions.keySet()));
                    terms.add(new Conditions.Constant(Tri.ERROR));
                    continue;
                }
                if (roleReadsTime.getOrDefault(term.role(), false)) {
                    timeDependent = true;
                }
                Condition membership = new Conditions.RoleMembership(term.role(), role.get());
                terms.add(term.negated() ? new Conditions.Negation(membership) : membership);
            }
            return terms.size() == 1 ? terms.get(0) : new Conditions.AnyOf(List.copyOf(terms));
        }

        private static String principalKey(Principal principal) {
            return principal.terms().stream().map(PrincipalTerm::toString).sorted().distinct()
                    .collect(Collectors.joining(","));
        }

        private Set<Action> actions(List<Name> names) {
            Set<Action> actions = EnumSet.noneOf(Action.class);
            for (Name name : names) {
                Set<Action> group = ACTION_GROUPS.get(name.text());
                if (group != null) {
                    actions.addAll(group);
                    continue;
                }
                Optional<Action> action = Action.fromKeyword(name.text());
                if (action.isPresent()) {
                    actions.add(action.get());
                } else {
                    List<String> known = new ArrayList<>(ACTION_GROUPS.keySet());
                    Arrays.stream(Action.values()).map(Action::keyword).forEach(known::add);
                    error(name.span(), "unknown action '" + name.text() + "'" + Suggestions.didYouMean(name.text(), known));
                }
            }
            return actions;
        }

        /** Checks the number of name parts for the kind and compiles the pattern. */
        private ResourceMatcher resource(Resource resource) {
            List<PatternPart> parts = resource.parts();
            for (PatternPart part : parts) {
                // PostgreSQL truncates identifiers to NAMEDATALEN - 1 = 63 bytes, so a longer literal
                // name can never equal a name the server uses.
                if (!part.isGlob() && part.text().getBytes(StandardCharsets.UTF_8).length > MAX_IDENTIFIER_BYTES) {
                    warning(resource.span(), "'" + part.text() + "' is longer than PostgreSQL's " + MAX_IDENTIFIER_BYTES
                            + "-byte identifier limit and can never match");
                }
            }
            int count = parts.size();
            String text = resource.patternText();
            switch (resource.kind()) {
                case TABLE, FUNCTION -> {
                    if (count > 2) {
                        error(resource.span(), "a " + resource.kind().keyword() + " pattern is NAME or SCHEMA.NAME, not " + text);
                        return null;
                    }
                    return new ResourceMatcher(resource.kind(), count == 2 ? Glob.of(parts.get(0)) : null,
                            Glob.of(parts.get(count - 1)), null, -1, text);
                }
                case COLUMN -> {
                    if (count < 2 || count > 3) {
                        error(resource.span(), "a column pattern is TABLE.COLUMN or SCHEMA.TABLE.COLUMN, not " + text);
                        return null;
                    }
                    return new ResourceMatcher(ResourceKind.COLUMN, count == 3 ? Glob.of(parts.get(0)) : null,
                            Glob.of(parts.get(count - 2)), Glob.of(parts.get(count - 1)), -1, text);
                }
                case SCHEMA -> {
                    if (count != 1) {
                        error(resource.span(), "a schema pattern is a single name, not " + text);
                        return null;
                    }
                    return new ResourceMatcher(ResourceKind.SCHEMA, Glob.of(parts.get(0)), null, null, -1, text);
                }
                case DATABASE -> {
                    if (count != 1) {
                        error(resource.span(), "a database pattern is a single name, not " + text);
                        return null;
                    }
                    databasePatterns.add(Glob.of(parts.get(0)));
                    return new ResourceMatcher(ResourceKind.DATABASE, null, Glob.of(parts.get(0)), null,
                            databasePatterns.size() - 1, text);
                }
                default -> throw new AssertionError("unhandled resource kind " + resource.kind());
            }
        }

        /** A resource none of the rule's actions can ever request is a mistake worth an error. */
        private void checkApplicable(Resource resource, Set<Action> actions) {
            if (actions.isEmpty()) {
                return;
            }
            boolean applicable = switch (resource.kind()) {
                case DATABASE -> true;
                case FUNCTION -> actions.contains(Action.CALL) || actions.contains(Action.UNPARSED);
                case TABLE, COLUMN -> actions.stream().anyMatch(TABLE_ACTIONS::contains);
                case SCHEMA -> actions.contains(Action.CALL) || actions.stream().anyMatch(TABLE_ACTIONS::contains);
            };
            if (!applicable) {
                error(resource.span(), "no action of this rule acts on a " + resource.kind().keyword()
                        + ", so '" + resource + "' can never match");
            }
        }

        private MaskSpec maskSpec(MaskCall call) {
            String name = call.function().text();
            Optional<MaskFunction> function = MaskFunction.fromKeyword(name);
            if (function.isEmpty()) {
                error(call.function().span(), "unknown mask function '" + name + "'; expected redact, partial, email,"
                        + " hash, null or regex" + Suggestions.didYouMean(name,
                        Arrays.stream(MaskFunction.values()).map(MaskFunction::keyword).toList()));
                return null;
            }
            MaskFunction f = function.get();
            List<Expr> arguments = call.arguments();
            if (arguments.size() < f.minArguments() || arguments.size() > f.maxArguments()) {
                String expected = f.minArguments() == f.maxArguments() ? String.valueOf(f.minArguments())
                        : f.minArguments() + " or " + f.maxArguments();
                error(call.span(), name + "() takes " + expected + " argument" + (f.maxArguments() == 1 ? "" : "s")
                        + ", not " + arguments.size());
                return null;
            }
            List<Object> values = new ArrayList<>();
            boolean ok = true;
            for (int i = 0; i < arguments.size(); i++) {
                boolean wantsInt = f == MaskFunction.PARTIAL && i != 1;
                Expr argument = arguments.get(i);
                if (wantsInt) {
                    if (!(argument instanceof Expr.IntLiteral integer) || integer.value() > 1_000_000) {
                        error(argument.span(), name + "() argument " + (i + 1) + " must be a character count (0 to 1000000)");
                        ok = false;
                    } else {
                        values.add(integer.value());
                    }
                } else if (argument instanceof Expr.StringLiteral string) {
                    values.add(string.value());
                } else {
                    error(argument.span(), name + "() argument " + (i + 1) + " must be a string");
                    ok = false;
                }
            }
            if (ok && f == MaskFunction.REGEX) {
                ok = checkRegexMask(arguments, (String) values.get(0), (String) values.get(1));
            }
            return ok ? new MaskSpec(f, values) : null;
        }

        private boolean checkRegexMask(List<Expr> arguments, String regex, String replacement) {
            Pattern pattern;
            try {
                pattern = Pattern.compile(regex);
            } catch (PatternSyntaxException e) {
                error(arguments.get(0).span(), "invalid regular expression: " + e.getDescription());
                return false;
            }
            try {
                // An alternative that always matches the empty string makes the replacement be parsed,
                // with the same groups as the pattern, so bad group references show now and not per row.
                Pattern.compile("(?:" + pattern.pattern() + ")|").matcher("").replaceFirst(replacement);
                return true;
            } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
                error(arguments.get(1).span(), "invalid replacement: " + e.getMessage());
                return false;
            }
        }

        private void error(Span at, String message) {
            diagnostics.add(Diagnostic.error(at, message));
        }

        private void warning(Span at, String message) {
            diagnostics.add(Diagnostic.warning(at, message));
        }
    }
}
