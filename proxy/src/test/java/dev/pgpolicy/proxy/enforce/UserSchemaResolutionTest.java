package dev.pgpolicy.proxy.enforce;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.embedded.ProcessResult;
import dev.pgpolicy.proxy.server.ProxyConfig;
import dev.pgpolicy.proxy.server.ProxyServer;
import dev.pgpolicy.proxy.testing.PgClient;
import dev.pgpolicy.proxy.testing.PostgresExtension;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code "$user"} in the default search_path, resolved by the live proxy through its catalog
 * connection: a role with a schema of its own name reads its own {@code t} there, so deny and
 * allow rules on {@code role.t} apply to {@code SELECT * FROM t} and rules on {@code public.t} do
 * not; a role without such a schema reads {@code public.t}. Without a catalog the name is
 * uncertain: every deny that could match applies, and no allow that names a schema.
 */
@ExtendWith(PostgresExtension.class)
class UserSchemaResolutionTest {

    private static final String DB = "user_schema_test";
    private static final String OWNER = "us_owner";
    private static final String PLAIN = "us_plain";
    private static final String LATE = "us_late";
    private static final String PASSWORD = "us-secret-pw";

    private static boolean created;

    private EmbeddedPostgres postgres;

    @TempDir
    Path dir;

    @BeforeEach
    void schema(EmbeddedPostgres postgres) {
        this.postgres = postgres;
        createSchema(postgres);
    }

    private static synchronized void createSchema(EmbeddedPostgres postgres) {
        if (created) {
            return;
        }
        postgres.createRole(OWNER, PASSWORD);
        postgres.createRole(PLAIN, PASSWORD);
        postgres.createRole(LATE, PASSWORD);
        postgres.createDatabase(DB);
        postgres.execute(DB, """
                CREATE SCHEMA us_owner AUTHORIZATION us_owner;
                CREATE TABLE us_owner.t (v text);
                INSERT INTO us_owner.t VALUES ('own');
                CREATE TABLE public.t (v text);
                INSERT INTO public.t VALUES ('shared');
                GRANT SELECT ON public.t TO us_owner, us_plain, us_late;
                GRANT SELECT ON us_owner.t TO us_owner;
                """);
        created = true;
    }

    private Path policies(String name, String text) throws IOException {
        Path directory = Files.createDirectories(dir.resolve(name));
        Files.writeString(directory.resolve("policy.pgpolicy"), text);
        return directory;
    }

    private Path denies() throws IOException {
        return policies("denies", """
                role dba = user == "%s";
                allow any session;
                allow any select on *.t;
                allow dba all;
                @id("deny-own") deny any select on us_owner.t;
                @id("deny-public") deny any select on public.t;
                @id("deny-late") deny any select on us_late.t;
                """.formatted(postgres.superuser()));
    }

    private ProxyServer proxy(Path policyDirectory, boolean withCatalog) throws IOException {
        ProxyConfig.Builder config = ProxyConfig.builder().listen("127.0.0.1", 0)
                .upstream(postgres.host(), postgres.port()).shutdownGracePeriod(Duration.ZERO).policiesDir(policyDirectory);
        if (withCatalog) {
            Path password = Files.writeString(dir.resolve("catalog.pw"), postgres.superuserPassword() + "\n");
            config.catalog(postgres.superuser(), password);
        }
        return ProxyServer.start(config.build());
    }

    private static ProcessResult select(ProxyServer proxy, String user) {
        return PgClient.to("127.0.0.1", proxy.address().getPort()).user(user).password(PASSWORD).database(DB)
                .sslMode("disable").psql("SELECT v FROM t");
    }

    @Test
    void theUserSchemaIsSearchedFirstWhenItExistsAndTheRoleMayUseIt() throws IOException {
        try (ProxyServer proxy = proxy(denies(), true)) {
            ProcessResult owner = select(proxy, OWNER);
            assertThat(owner.succeeded()).as(owner.describe()).isFalse();
            assertThat(owner.stderr()).contains("permission denied by rule \"deny-own\"").doesNotContain("deny-public");

            ProcessResult plain = select(proxy, PLAIN);
            assertThat(plain.succeeded()).as(plain.describe()).isFalse();
            assertThat(plain.stderr()).contains("permission denied by rule \"deny-public\"").doesNotContain("deny-own");
        }
    }

    @Test
    void allowRulesOnTheUserSchemaCoverTheUnqualifiedName() throws IOException {
        Path allows = policies("allows", "allow any session;\nallow any select on us_owner.t;\n");
        try (ProxyServer proxy = proxy(allows, true)) {
            ProcessResult owner = select(proxy, OWNER);
            assertThat(owner.succeeded()).as(owner.describe()).isTrue();
            assertThat(owner.stdout().strip()).isEqualTo("own"); // what the server read agrees with the resolution
            ProcessResult plain = select(proxy, PLAIN);
            assertThat(plain.succeeded()).as(plain.describe()).isFalse();
            assertThat(plain.stderr()).contains("no policy rule allows this statement");
        }
        try (ProxyServer proxy = proxy(allows, false)) {
            // Without the catalog the name could be us_owner.t or public.t: no schema-specific allow covers it.
            ProcessResult owner = select(proxy, OWNER);
            assertThat(owner.succeeded()).as(owner.describe()).isFalse();
            assertThat(owner.stderr()).contains("no policy rule allows this statement");
        }
    }

    @Test
    void withoutACatalogTheUserSchemaIsUncertainAndEveryDenyThatCouldMatchApplies() throws IOException {
        try (ProxyServer proxy = proxy(denies(), false)) {
            ProcessResult owner = select(proxy, OWNER);
            assertThat(owner.succeeded()).as(owner.describe()).isFalse();
            assertThat(owner.stderr()).contains("permission denied by rules").contains("\"deny-own\"")
                    .contains("\"deny-public\"");
        }
    }

    @Test
    void inProxyAuthenticationTheUserSchemaIsTheMappedServiceAccounts() throws IOException {
        Files.writeString(dir.resolve("owner.pw"), PASSWORD + "\n");
        String personPassword = "person-pw";
        Path users = Files.writeString(dir.resolve("users.yaml"), """
                users:
                  us_person: { scram: "%s", upstream: owner }
                accounts:
                  owner: { user: %s, password_file: owner.pw }
                """.formatted(dev.pgpolicy.proxy.scram.ScramVerifier.generate(personPassword.toCharArray(), 4096,
                new java.security.SecureRandom()).encode(), OWNER));
        Path password = Files.writeString(dir.resolve("catalog.pw"), postgres.superuserPassword() + "\n");
        ProxyConfig config = ProxyConfig.builder().listen("127.0.0.1", 0).upstream(postgres.host(), postgres.port())
                .shutdownGracePeriod(Duration.ZERO).policiesDir(denies()).catalog(postgres.superuser(), password)
                .authMode(ProxyConfig.AuthMode.PROXY).usersFile(users).build();
        try (ProxyServer proxy = ProxyServer.start(config)) {
            // The proxy user has no role, let alone a schema: "$user" is the upstream role us_owner.
            ProcessResult person = PgClient.to("127.0.0.1", proxy.address().getPort()).user("us_person")
                    .password(personPassword).database(DB).sslMode("disable").psql("SELECT v FROM t");
            assertThat(person.succeeded()).as(person.describe()).isFalse();
            assertThat(person.stderr()).contains("permission denied by rule \"deny-own\"").doesNotContain("deny-public");
        }
    }

    @Test
    void aSchemaCreatedThroughTheProxyIsSeenByTheNextStatement() throws IOException {
        try (ProxyServer proxy = proxy(denies(), true)) {
            ProcessResult before = select(proxy, LATE);
            assertThat(before.stderr()).contains("permission denied by rule \"deny-public\"");

            ProcessResult ddl = PgClient.to("127.0.0.1", proxy.address().getPort()).user(postgres.superuser())
                    .password(postgres.superuserPassword()).database(DB).sslMode("disable").psqlScript("""
                            CREATE SCHEMA us_late AUTHORIZATION us_late;
                            CREATE TABLE us_late.t (v text);
                            SELECT 1;
                            """);
            assertThat(ddl.succeeded()).as(ddl.describe()).isTrue();

            ProcessResult after = select(proxy, LATE);
            assertThat(after.succeeded()).as(after.describe()).isFalse();
            assertThat(after.stderr()).contains("permission denied by rule \"deny-late\"").doesNotContain("deny-public");
        }
    }
}
