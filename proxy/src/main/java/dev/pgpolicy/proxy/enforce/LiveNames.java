package dev.pgpolicy.proxy.enforce;

import dev.pgpolicy.policy.CatalogPlacements;
import dev.pgpolicy.policy.NameResolver;
import dev.pgpolicy.policy.SearchPathResolver;
import dev.pgpolicy.policy.UserSchema;
import dev.pgpolicy.proxy.catalog.CatalogCache;
import dev.pgpolicy.proxy.session.SessionInfo;
import dev.pgpolicy.sql.ColumnUse;
import dev.pgpolicy.sql.ObjectName;
import dev.pgpolicy.sql.QueryAnalysis;
import dev.pgpolicy.sql.StatementFacts;
import dev.pgpolicy.sql.TableAccess;
import java.sql.SQLException;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How the live proxy resolves the unqualified names of one statement (LANGUAGE.md, "RESOURCES":
 * the session's search_path as tracked by the proxy, and the catalog cache). The search_path comes
 * from {@link SearchPathTracker}; the catalog connection then says what {@code "$user"} stands for
 * (the schema named like the session's upstream role, {@code db_user}, when it exists and the
 * role has USAGE on it) and, when the path leaves several schemas, which of them hold each name.
 *
 * <p>Without an answer from the catalog (none configured, or the lookup failed), {@code "$user"}
 * is uncertain, never assumed absent: a name it could hold matches every deny it could match and
 * no allow that depends on its schema.
 *
 * <p>The answers are part of the decision cache key ({@link Resolution#cacheKey()}): two sessions
 * with the same path text but different roles, or one session before and after a DDL statement,
 * may resolve the same SQL to different tables.
 */
final class LiveNames {

    private static final Logger LOG = LoggerFactory.getLogger(LiveNames.class);

    /** The resolver for one statement, and what tells it apart from others for the decision cache. */
    record Resolution(NameResolver resolver, String cacheKey) {
    }

    /** Null when no catalog account is configured. */
    private final CatalogCache catalog;

    LiveNames(CatalogCache catalog) {
        this.catalog = catalog;
    }

    /** Asks the catalog on a cache miss: blocks for its round trip, so never on an event loop. */
    Resolution resolve(SessionInfo session, SearchPathTracker searchPath, QueryAnalysis analysis) {
        return resolve(session, searchPath, analysis, true).orElseThrow();
    }

    /**
     * The resolution {@link #resolve} would give, from what the catalog cache holds; empty when it
     * would have to ask the server. Never blocks.
     */
    Optional<Resolution> resolveIfCached(SessionInfo session, SearchPathTracker searchPath, QueryAnalysis analysis) {
        return resolve(session, searchPath, analysis, false);
    }

    private Optional<Resolution> resolve(SessionInfo session, SearchPathTracker searchPath, QueryAnalysis analysis,
            boolean mayAsk) {
        Optional<String> tracked = searchPath.setting(session);
        if (tracked.isEmpty()) {
            return Optional.of(UNCERTAIN_PATH);
        }
        String setting = tracked.get();
        String database = session.database().orElse("");
        String role = session.dbUser().orElse("");
        Optional<UserSchema> known = userSchema(session, setting, database, role, mayAsk);
        if (known.isEmpty()) {
            return Optional.empty();
        }
        UserSchema userSchema = known.get();
        PathKey pathKey = new PathKey(setting, userSchema);
        Resolution pathOnly = byPathAlone.get(pathKey);
        if (pathOnly != null) {
            return Optional.of(pathOnly);
        }
        SearchPathResolver bare = SearchPathResolver.live(setting, userSchema, CatalogPlacements.none());
        if (catalog == null || userSchema.state() == UserSchema.State.UNKNOWN || bare.schemas().size() <= 1) {
            // Nothing to look up for any statement: the resolution is the path's alone.
            Resolution resolution = new Resolution(bare,
                    "path:" + setting + "|$user:" + userSchema + "|" + CatalogPlacements.none());
            if (byPathAlone.size() >= PATH_ALONE_ENTRIES) {
                byPathAlone.clear();
            }
            byPathAlone.put(pathKey, resolution);
            return Optional.of(resolution);
        }
        CatalogPlacements placements = CatalogPlacements.none();
        Set<String> relations = new TreeSet<>();
        Set<String> functions = new TreeSet<>();
        unqualifiedNames(analysis, relations, functions);
        if (!relations.isEmpty() || !functions.isEmpty()) {
            if (!mayAsk) {
                Optional<CatalogPlacements> cached = catalog.cachedPlacements(database, role, relations, functions);
                if (cached.isEmpty()) {
                    return Optional.empty();
                }
                placements = cached.get();
            } else {
                try {
                    placements = catalog.placements(database, role, relations, functions);
                } catch (SQLException e) {
                    // Placed by the path alone: uncertain among its schemas, which fails closed.
                    LOG.warn("session {}: catalog lookup of names {} {} failed ({}); they stay uncertain",
                            session.id(), relations, functions, e.getMessage());
                }
            }
        }
        return Optional.of(new Resolution(SearchPathResolver.live(setting, userSchema, placements),
                "path:" + setting + "|$user:" + userSchema + "|" + placements));
    }

    /**
     * Resolutions that need no catalog placement (one schema to search, or none known), by path
     * and {@code "$user"}: the same for every statement, so not worth splitting the setting again
     * for each. Bounded; a path is a handful of distinct settings in practice.
     */
    private final Map<PathKey, Resolution> byPathAlone = new ConcurrentHashMap<>();
    private static final int PATH_ALONE_ENTRIES = 1024;

    private record PathKey(String setting, UserSchema userSchema) {
        // Written out: a record's generated equals and hashCode run through method-handle chains
        // (ObjectMethods) that showed in the statement path's profile; these keys are looked up
        // for every statement.
        @Override
        public boolean equals(Object other) {
            return other == this || other instanceof PathKey that
                    && Objects.equals(setting, that.setting) && Objects.equals(userSchema, that.userSchema);
        }

        @Override
        public int hashCode() {
            return Objects.hashCode(setting) * 31 + Objects.hashCode(userSchema);
        }
    }

    private static final Resolution UNCERTAIN_PATH = new Resolution(SearchPathTracker.UNCERTAIN, "uncertain");

    /** Empty when {@code mayAsk} is false and the answer is not cached. */
    private Optional<UserSchema> userSchema(SessionInfo session, String setting, String database, String role,
            boolean mayAsk) {
        if (!SearchPathResolver.mentionsUserSchema(setting)) {
            return Optional.of(UserSchema.absent()); // what it would stand for does not matter
        }
        if (catalog == null || role.isEmpty()) {
            return Optional.of(UserSchema.unknown(role));
        }
        if (!mayAsk) {
            return catalog.cachedUserSchema(database, role)
                    .map(present -> present ? UserSchema.present(role) : UserSchema.absent());
        }
        return Optional.of(askUserSchema(session, database, role));
    }

    private UserSchema askUserSchema(SessionInfo session, String database, String role) {
        try {
            return catalog.hasUserSchema(database, role) ? UserSchema.present(role) : UserSchema.absent();
        } catch (SQLException e) {
            LOG.warn("session {}: catalog lookup of the \"$user\" schema of role {} failed ({}); unqualified names"
                    + " stay uncertain", session.id(), role, e.getMessage());
            return UserSchema.unknown(role);
        }
    }

    private static void unqualifiedNames(QueryAnalysis analysis, Set<String> relations, Set<String> functions) {
        for (StatementFacts facts : analysis.statements()) {
            for (TableAccess access : facts.tables()) {
                addUnqualified(access.table(), relations);
            }
            for (ColumnUse use : facts.columns()) {
                if (use.table() != null) {
                    addUnqualified(use.table(), relations);
                }
            }
            for (ObjectName function : facts.functions()) {
                addUnqualified(function, functions);
            }
        }
    }

    private static void addUnqualified(ObjectName name, Set<String> names) {
        if (!name.qualified()) {
            names.add(name.name());
        }
    }
}
