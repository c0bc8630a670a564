package dev.pgpolicy.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpolicy.sql.Action;
import dev.pgpolicy.sql.ObjectName;
import dev.pgpolicy.sql.QueryAnalysis;
import dev.pgpolicy.sql.StatementKind;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SearchPathResolverTest {

    @Test
    void defaultPathResolvesToPublicAndAssumesNoUserSchema() {
        SearchPathResolver resolver = SearchPathResolver.defaultPath();
        assertThat(resolver.schemas()).containsExactly("public");
        assertThat(resolver.relation(ObjectName.unqualified("orders"))).isEqualTo(ResolvedName.certain("public", "orders"));
        assertThat(resolver.relation(new ObjectName("sales", "orders"))).isEqualTo(ResolvedName.certain("sales", "orders"));
    }

    @Test
    void catalogNamesAreSearchedFirst() {
        SearchPathResolver resolver = SearchPathResolver.defaultPath();
        assertThat(resolver.relation(ObjectName.unqualified("pg_shadow"))).isEqualTo(ResolvedName.certain("pg_catalog", "pg_shadow"));
        assertThat(resolver.function(ObjectName.unqualified("version"))).isEqualTo(ResolvedName.certain("pg_catalog", "version"));
        assertThat(resolver.function(ObjectName.unqualified("pg_sleep"))).isEqualTo(ResolvedName.certain("pg_catalog", "pg_sleep"));
        assertThat(resolver.function(ObjectName.unqualified("my_func"))).isEqualTo(ResolvedName.certain("public", "my_func"));
    }

    @Test
    void severalSchemasMakeANameUncertain() {
        SearchPathResolver resolver = SearchPathResolver.fromSetting("\"$user\", Sales, \"My, Schema\", pg_catalog");
        assertThat(resolver.schemas()).containsExactly("sales", "My, Schema", "pg_catalog");
        ResolvedName orders = resolver.relation(ObjectName.unqualified("orders"));
        assertThat(orders.isCertain()).isFalse();
        assertThat(orders.schemas()).containsExactly("sales", "My, Schema");
        assertThat(orders.toString()).isEqualTo("?.orders");
    }

    @Test
    void anEmptyPathKnowsNothing() {
        ResolvedName name = SearchPathResolver.offline(List.of("$user")).relation(ObjectName.unqualified("t"));
        assertThat(name.anySchema()).isTrue();
    }

    // ------------------------------------------------------------------ the live proxy: "$user" and the catalog

    private static final String DEFAULT = "\"$user\", public";

    private static CatalogPlacements relations(Map<String, List<String>> placements) {
        return new CatalogPlacements(placements, Map.of());
    }

    @Test
    void userSchemaIsOnlyMentionedByTheUserEntry() {
        assertThat(SearchPathResolver.mentionsUserSchema(DEFAULT)).isTrue();
        assertThat(SearchPathResolver.mentionsUserSchema("$user")).isTrue();
        assertThat(SearchPathResolver.mentionsUserSchema("public, \"My, $user\"")).isFalse();
        assertThat(SearchPathResolver.mentionsUserSchema("public")).isFalse();
        assertThat(SearchPathResolver.mentionsUserSchema(" \t\"$user\"\n")).isTrue();
        assertThat(SearchPathResolver.mentionsUserSchema("\"$user\"\"")).isFalse();
        assertThat(SearchPathResolver.mentionsUserSchema("public,")).isFalse();
    }

    /** The in-place reading agrees with splitting the setting and trimming each entry, on settings built to confuse it. */
    @Test
    void userSchemaMentionAgreesWithTheSplitSetting() {
        String[] pieces = {"$user", "\"$user\"", "$use", "$users", "\"", ",", " ", "\t", "public", "\"a,b\"", "x", ""};
        Random random = new Random(20261205);
        int mentioned = 0;
        for (int round = 0; round < 50_000; round++) {
            StringBuilder setting = new StringBuilder();
            int count = random.nextInt(7);
            for (int i = 0; i < count; i++) {
                setting.append(pieces[random.nextInt(pieces.length)]);
            }
            String text = setting.toString();
            boolean split = SearchPathResolver.splitSetting(text).stream().map(String::trim)
                    .anyMatch(entry -> entry.equals("$user") || entry.equals("\"$user\""));
            assertThat(SearchPathResolver.mentionsUserSchema(text)).as("setting [%s]", text).isEqualTo(split);
            mentioned += split ? 1 : 0;
        }
        assertThat(mentioned).as("settings that mention $user, so that both answers were tried").isGreaterThan(1_000);
    }

    @Test
    void anAbsentUserSchemaIsSkippedAsOffline() {
        SearchPathResolver resolver = SearchPathResolver.live(DEFAULT, UserSchema.absent(), CatalogPlacements.none());
        assertThat(resolver.schemas()).containsExactly("public");
        assertThat(resolver.relation(ObjectName.unqualified("t"))).isEqualTo(ResolvedName.certain("public", "t"));
    }

    @Test
    void anExistingUserSchemaComesFirstAndTheCatalogPlacesEachName() {
        CatalogPlacements placements = relations(Map.of("t", List.of("public", "alice"), "only_public", List.of("public"),
                "nowhere", List.of()));
        SearchPathResolver resolver = SearchPathResolver.live(DEFAULT, UserSchema.present("alice"), placements);
        assertThat(resolver.schemas()).containsExactly("alice", "public");
        // The first schema of the path that holds the name wins, as in PostgreSQL.
        assertThat(resolver.relation(ObjectName.unqualified("t"))).isEqualTo(ResolvedName.certain("alice", "t"));
        assertThat(resolver.relation(ObjectName.unqualified("only_public")))
                .isEqualTo(ResolvedName.certain("public", "only_public"));
        // Held by no schema (about to be created, or the server refuses it): uncertain among the path.
        assertThat(resolver.relation(ObjectName.unqualified("nowhere")).schemas()).containsExactly("alice", "public");
        assertThat(resolver.relation(ObjectName.unqualified("nowhere")).isCertain()).isFalse();
        // Not looked up: the path alone cannot tell.
        assertThat(resolver.relation(ObjectName.unqualified("other")).isCertain()).isFalse();
        assertThat(resolver.relation(new ObjectName("public", "t"))).isEqualTo(ResolvedName.certain("public", "t"));
    }

    @Test
    void roleNamesAreNotFoldedAndAreNotListedTwice() {
        SearchPathResolver resolver = SearchPathResolver.live("\"$user\", public, \"Alice\"", UserSchema.present("Alice"),
                CatalogPlacements.none());
        assertThat(resolver.schemas()).containsExactly("Alice", "public");
    }

    @Test
    void anUnknownUserSchemaKeepsNamesUncertainWhateverThePlacements() {
        CatalogPlacements placements = relations(Map.of("t", List.of("public")));
        SearchPathResolver resolver = SearchPathResolver.live(DEFAULT, UserSchema.unknown("alice"), placements);
        ResolvedName t = resolver.relation(ObjectName.unqualified("t"));
        assertThat(t.isCertain()).isFalse();
        assertThat(t.schemas()).containsExactly("alice", "public");

        ResolvedName noRole = SearchPathResolver.live(DEFAULT, UserSchema.unknown(""), placements)
                .relation(ObjectName.unqualified("t"));
        assertThat(noRole.anySchema()).isTrue();
        // Qualified and catalog names do not depend on the path.
        assertThat(SearchPathResolver.live(DEFAULT, UserSchema.unknown(""), placements).relation(ObjectName.unqualified("pg_class")))
                .isEqualTo(ResolvedName.certain("pg_catalog", "pg_class"));
    }

    @Test
    void functionsAreCertainOnlyWhenASingleSearchedSchemaHoldsThem() {
        CatalogPlacements placements = new CatalogPlacements(Map.of(), Map.of(
                "only_mine", List.of("alice"), "overloaded", List.of("alice", "public"), "builtin", List.of("pg_catalog"),
                "elsewhere", List.of("audit")));
        SearchPathResolver resolver = SearchPathResolver.live(DEFAULT, UserSchema.present("alice"), placements);
        assertThat(resolver.function(ObjectName.unqualified("only_mine"))).isEqualTo(ResolvedName.certain("alice", "only_mine"));
        ResolvedName overloaded = resolver.function(ObjectName.unqualified("overloaded"));
        assertThat(overloaded.isCertain()).isFalse();
        assertThat(overloaded.schemas()).containsExactly("alice", "public");
        // pg_catalog is searched first when the path does not place it.
        assertThat(resolver.function(ObjectName.unqualified("builtin"))).isEqualTo(ResolvedName.certain("pg_catalog", "builtin"));
        // A schema outside the path does not count.
        assertThat(resolver.function(ObjectName.unqualified("elsewhere")).isCertain()).isFalse();
    }

    @Test
    void denyRulesFollowTheResolution() {
        PolicySet set = Policies.compile("""
                allow any select on *.t;
                @id("own") deny any select on alice.t;
                @id("shared") deny any select on public.t;
                """);
        SessionContext alice = SessionContext.of("alice", java.time.Instant.parse("2026-03-04T10:00:00Z"));
        QueryAnalysis selectT = Facts.of(StatementKind.SELECT).table("t", Action.SELECT).query();
        CatalogPlacements placements = relations(Map.of("t", List.of("alice", "public")));

        Decision own = set.evaluate(alice, selectT, SearchPathResolver.live(DEFAULT, UserSchema.present("alice"), placements));
        assertThat(own.allowed()).isFalse();
        assertThat(own.ruleIds()).containsExactly("own");

        Decision shared = set.evaluate(alice, selectT, SearchPathResolver.live(DEFAULT, UserSchema.absent(), placements));
        assertThat(shared.ruleIds()).containsExactly("shared");

        Decision uncertain = set.evaluate(alice, selectT,
                SearchPathResolver.live(DEFAULT, UserSchema.unknown("alice"), CatalogPlacements.none()));
        assertThat(uncertain.allowed()).isFalse();
        assertThat(uncertain.ruleIds()).containsExactlyInAnyOrder("own", "shared");
    }

    @Test
    void placementsCompareByContent() {
        assertThat(new CatalogPlacements(Map.of("a", List.of("y", "x")), Map.of()))
                .isEqualTo(new CatalogPlacements(Map.of("a", List.of("x", "y")), Map.of()))
                .hasToString("relations {a=[x, y]} functions {}");
    }
}
