package dev.pgpolicy.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpolicy.sql.ObjectName;
import java.util.List;
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
}
