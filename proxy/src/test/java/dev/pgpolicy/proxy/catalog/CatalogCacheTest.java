package dev.pgpolicy.proxy.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpolicy.proxy.config.ConfigFile;
import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.server.ProxyConfig;
import dev.pgpolicy.proxy.testing.PostgresExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The catalog cache against a real server: OIDs to schema.table.column, prefetch, invalidation, configuration. */
@ExtendWith(PostgresExtension.class)
class CatalogCacheTest {

    private static final String DB = "catalog_cache_test";

    @Test
    void resolvesPrefetchesAndForgets(EmbeddedPostgres postgres) throws Exception {
        postgres.createDatabase(DB);
        postgres.execute(DB, """
                CREATE SCHEMA "Billing";
                CREATE TABLE "Billing".invoices (id int, dropped int, total numeric, "Holder Name" text);
                ALTER TABLE "Billing".invoices DROP COLUMN dropped;
                CREATE TABLE public.invoices (id int);
                """);
        int billing = Integer.parseInt(postgres.query(DB, "SELECT '\"Billing\".invoices'::regclass::oid").get(0).get(0));
        int plain = Integer.parseInt(postgres.query(DB, "SELECT 'public.invoices'::regclass::oid").get(0).get(0));
        try (CatalogCache catalog = new CatalogCache(database -> DriverManager.getConnection(postgres.jdbcUrl(database),
                postgres.superuser(), postgres.superuserPassword()))) {
            assertThat(catalog.cached(DB, billing, 4)).isEmpty();
            assertThat(catalog.column(DB, billing, 4)).contains(new CatalogCache.Column("Billing", "invoices", "Holder Name"));
            assertThat(catalog.cached(DB, billing, 3)).contains(new CatalogCache.Column("Billing", "invoices", "total"));
            assertThat(catalog.column(DB, billing, 2)).as("a dropped column is no column").isEmpty();
            assertThat(catalog.column(DB, 999_999_999, 1)).isEmpty();

            catalog.invalidate(DB);
            assertThat(catalog.cached(DB, billing, 4)).isEmpty();
            catalog.prefetch(DB, List.of("invoices"));
            assertThat(catalog.cached(DB, billing, 1)).contains(new CatalogCache.Column("Billing", "invoices", "id"));
            assertThat(catalog.cached(DB, plain, 1)).contains(new CatalogCache.Column("public", "invoices", "id"));
            catalog.invalidateAll();
            assertThat(catalog.cached(DB, plain, 1)).isEmpty();
        }
    }

    @Test
    void userSchemasAndNamePlacementsFollowPostgresqlsUsageRule(EmbeddedPostgres postgres) throws Exception {
        String db = "catalog_names_test";
        postgres.createDatabase(db);
        postgres.createRole("cc_member", "cc-pw");
        postgres.createRole("cc_locked", "cc-pw");
        postgres.execute(db, """
                CREATE SCHEMA cc_member AUTHORIZATION cc_member;
                CREATE SCHEMA cc_locked;
                REVOKE ALL ON SCHEMA cc_locked FROM PUBLIC;
                CREATE TABLE cc_member.t (v int);
                CREATE TABLE cc_locked.t (v int);
                CREATE TABLE public.t (v int);
                CREATE FUNCTION public.f() RETURNS int LANGUAGE sql AS 'SELECT 1';
                """);
        // A connection that fails is counted, so the test sees that the retry pause holds.
        int[] connects = {0};
        try (CatalogCache catalog = new CatalogCache(database -> {
            connects[0]++;
            return DriverManager.getConnection(postgres.jdbcUrl(database), postgres.superuser(), postgres.superuserPassword());
        })) {
            assertThat(catalog.hasUserSchema(db, "cc_member")).isTrue();
            // A schema named like the role but without USAGE for it is skipped, as PostgreSQL skips it.
            assertThat(catalog.hasUserSchema(db, "cc_locked")).isFalse();
            assertThat(catalog.hasUserSchema(db, "no_such_role")).isFalse();

            var member = catalog.placements(db, "cc_member", List.of("t", "absent"), List.of("f", "lower"));
            assertThat(member.relations()).containsEntry("t", List.of("cc_member", "public")).containsEntry("absent", List.of());
            assertThat(member.functions()).containsEntry("f", List.of("public")).containsEntry("lower", List.of("pg_catalog"));
            assertThat(catalog.placements(db, "cc_locked", List.of("t"), List.of()).relations())
                    .containsEntry("t", List.of("public"));

            // Cached: a schema created meanwhile is seen only after invalidation (DDL through the proxy).
            postgres.execute(db, "GRANT USAGE ON SCHEMA cc_locked TO cc_locked;\n");
            assertThat(catalog.hasUserSchema(db, "cc_locked")).isFalse();
            catalog.invalidate(db);
            assertThat(catalog.hasUserSchema(db, "cc_locked")).isTrue();
        }

        try (CatalogCache unreachable = new CatalogCache(database -> {
            connects[0]++;
            throw new java.sql.SQLException("connection refused");
        })) {
            connects[0] = 0;
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> unreachable.hasUserSchema(db, "cc_member"))
                    .hasMessageContaining("connection refused");
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> unreachable.hasUserSchema(db, "cc_member"))
                    .hasMessageContaining("not retried yet");
            assertThat(connects[0]).isEqualTo(1);
        }
    }

    @Test
    void cachedAnswersAreGivenWithoutTheServerAndPrefetchAsksOncePerName(EmbeddedPostgres postgres) throws Exception {
        String db = "catalog_cached_test";
        postgres.createDatabase(db);
        postgres.execute(db, """
                CREATE TABLE public.accounts (id int, filler text);
                CREATE TABLE public.tellers (id int);
                """);
        int accounts = Integer.parseInt(postgres.query(db, "SELECT 'public.accounts'::regclass::oid").get(0).get(0));
        int tellers = Integer.parseInt(postgres.query(db, "SELECT 'public.tellers'::regclass::oid").get(0).get(0));
        List<java.sql.Connection> opened = new java.util.ArrayList<>();
        try (CatalogCache catalog = new CatalogCache(database -> {
            java.sql.Connection connection = DriverManager.getConnection(postgres.jdbcUrl(database),
                    postgres.superuser(), postgres.superuserPassword());
            opened.add(connection);
            return connection;
        })) {
            assertThat(catalog.prefetched(db, List.of("accounts"))).isFalse();
            assertThat(catalog.cachedUserSchema(db, postgres.superuser())).isEmpty();
            assertThat(catalog.cachedPlacements(db, postgres.superuser(), List.of("accounts"), List.of())).isEmpty();
            assertThat(opened).as("asking the cache opens no connection").isEmpty();

            catalog.prefetch(db, List.of("accounts"));
            boolean userSchema = catalog.hasUserSchema(db, postgres.superuser());
            var placements = catalog.placements(db, postgres.superuser(), List.of("accounts"), List.of());
            assertThat(catalog.prefetched(db, List.of("accounts"))).isTrue();
            assertThat(catalog.prefetched(db, List.of("accounts", "tellers"))).isFalse();
            assertThat(catalog.cachedUserSchema(db, postgres.superuser())).contains(userSchema);
            assertThat(catalog.cachedPlacements(db, postgres.superuser(), List.of("accounts"), List.of()))
                    .contains(placements);

            // With its connection gone, a second prefetch of the same name must not need the server.
            opened.get(0).close();
            catalog.prefetch(db, List.of("accounts"));
            assertThat(opened).hasSize(1);
            assertThat(catalog.cached(db, accounts, 2)).contains(new CatalogCache.Column("public", "accounts", "filler"));
            // A name not asked about yet is, over a new connection.
            catalog.prefetch(db, List.of("accounts", "tellers"));
            assertThat(opened).hasSize(2);
            assertThat(catalog.cached(db, tellers, 1)).contains(new CatalogCache.Column("public", "tellers", "id"));

            // DDL or a reload forgets what was prefetched with the tables themselves.
            catalog.invalidate(db);
            assertThat(catalog.prefetched(db, List.of("accounts"))).isFalse();
            assertThat(catalog.cachedUserSchema(db, postgres.superuser())).isEmpty();
        }
    }

    @Test
    void theCatalogAccountComesFromTheConfigurationFile(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("pgpolicy.yaml"), """
                upstream: { host: 127.0.0.1, port: 5432 }
                policies: policies/
                catalog: { user: pgpolicy_catalog, password_file: secrets/catalog }
                """);
        ProxyConfig config = ConfigFile.load(file).build();
        assertThat(config.catalogUser()).contains("pgpolicy_catalog");
        assertThat(config.catalogPasswordFile()).contains(dir.resolve("secrets/catalog"));
        assertThat(CatalogCache.forUpstream(config)).isPresent();
        assertThat(CatalogCache.forUpstream(ProxyConfig.builder().upstream("127.0.0.1", 5432).build())).isEmpty();
    }
}
