package dev.pgpolicy.proxy.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class SessionOptionTest {

    @Test
    void everyKeyIsRead() {
        SessionOption option = SessionOption.parse("user=ana, db_user=ro ,database=shop,app=metabase,groups=a|b,"
                + "client_ip=10.1.2.3,auth=cert,tls=true,cert_cn=ana.example,time=2026-03-04T10:00:00+01:00,"
                + "search_path=app|public");
        var spec = option.session();
        assertThat(spec.user()).isEqualTo("ana");
        assertThat(spec.dbUser()).isEqualTo("ro");
        assertThat(spec.database()).isEqualTo("shop");
        assertThat(spec.applicationName()).isEqualTo("metabase");
        assertThat(spec.groups()).containsExactly("a", "b");
        assertThat(spec.clientIp().getHostAddress()).isEqualTo("10.1.2.3");
        assertThat(spec.auth()).isEqualTo("cert");
        assertThat(spec.tls()).isTrue();
        assertThat(spec.certCn()).isEqualTo("ana.example");
        assertThat(spec.time()).isEqualTo(Instant.parse("2026-03-04T09:00:00Z"));
        assertThat(option.searchPath()).containsExactly("app", "public");
    }

    @Test
    void leftOutAttributesStayEmpty() {
        SessionOption option = SessionOption.parse("");
        assertThat(option.session().user()).isNull();
        assertThat(option.session().groups()).isEmpty();
        assertThat(option.session().clientIp()).isNull();
        assertThat(option.session().time()).isNull();
        assertThat(option.searchPath()).isEqualTo(List.of());
    }

    @Test
    void ipv6AddressesAreAccepted() {
        assertThat(SessionOption.parse("client_ip=::1").session().clientIp().isLoopbackAddress()).isTrue();
    }

    @Test
    void mistakesAreRefusedWithTheirName() {
        assertThatThrownBy(() -> SessionOption.parse("user"))
                .hasMessage("--as: expected key=value, got 'user'");
        assertThatThrownBy(() -> SessionOption.parse("user=a,user=b"))
                .hasMessage("--as: 'user' given twice");
        assertThatThrownBy(() -> SessionOption.parse("client_ip=db.example.com"))
                .hasMessageContaining("client_ip must be an IPv4 or IPv6 address");
        assertThatThrownBy(() -> SessionOption.parse("client_ip=10.1.2"))
                .hasMessageContaining("client_ip must be an IPv4 or IPv6 address");
        assertThatThrownBy(() -> SessionOption.parse("tls=maybe"))
                .hasMessage("--as: tls must be true or false, got 'maybe'");
        assertThatThrownBy(() -> SessionOption.parse("time=noon"))
                .hasMessageContaining("time must be ISO-8601");
        assertThatThrownBy(() -> SessionOption.parse("role=admin"))
                .hasMessageStartingWith("--as: unknown attribute 'role'");
    }
}
