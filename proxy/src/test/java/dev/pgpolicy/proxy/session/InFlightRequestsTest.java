package dev.pgpolicy.proxy.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgpolicy.proxy.session.InFlightRequest.Kind;
import dev.pgpolicy.proxy.wire.ProtocolException;
import org.junit.jupiter.api.Test;

class InFlightRequestsTest {

    private final InFlightRequests queue = new InFlightRequests();

    private void send(Kind kind, String name, String sql) {
        queue.sent(InFlightRequest.of(kind, name, sql));
    }

    private Kind answer(char type) {
        return queue.attribute(type).map(InFlightRequest::kind).orElse(null);
    }

    @Test
    void pipelinedStatementsAreAttributedInOrder() {
        queue.sentParse("s1", "SELECT a FROM t");
        queue.sentBind("", "s1");
        send(Kind.DESCRIBE_PORTAL, "", "SELECT a FROM t");
        send(Kind.EXECUTE, "", "SELECT a FROM t");
        send(Kind.PARSE, "", "UPDATE t SET a = 1");
        send(Kind.BIND, "", "UPDATE t SET a = 1");
        send(Kind.EXECUTE, "", "UPDATE t SET a = 1");
        send(Kind.SYNC, "", null);

        assertThat(answer('1')).isEqualTo(Kind.PARSE);
        assertThat(answer('2')).isEqualTo(Kind.BIND);
        assertThat(answer('T')).isEqualTo(Kind.DESCRIBE_PORTAL);
        InFlightRequest row = queue.attribute('D').orElseThrow();
        assertThat(row.kind()).isEqualTo(Kind.EXECUTE);
        assertThat(row.sql()).contains("SELECT a FROM t");
        assertThat(answer('N')).isNull(); // a notice belongs to no request
        assertThat(answer('C')).isEqualTo(Kind.EXECUTE);
        assertThat(answer('1')).isEqualTo(Kind.PARSE);
        assertThat(answer('2')).isEqualTo(Kind.BIND);
        assertThat(queue.attribute('C').orElseThrow().sql()).contains("UPDATE t SET a = 1");
        assertThat(answer('Z')).isEqualTo(Kind.SYNC);
        assertThat(queue.isEmpty()).isTrue();
    }

    @Test
    void anErrorDiscardsEverythingUpToSync() {
        send(Kind.PARSE, "", "SELECT 1/0");
        send(Kind.BIND, "", null);
        send(Kind.EXECUTE, "", null);
        send(Kind.PARSE, "", "SELECT 2");
        send(Kind.SYNC, "", null);
        send(Kind.SIMPLE_QUERY, "", "SELECT 3");

        assertThat(answer('1')).isEqualTo(Kind.PARSE);
        assertThat(answer('2')).isEqualTo(Kind.BIND);
        assertThat(answer('E')).isEqualTo(Kind.EXECUTE);
        assertThat(queue.size()).isEqualTo(2); // Sync and the next Query
        assertThat(answer('Z')).isEqualTo(Kind.SYNC);
        assertThat(answer('T')).isEqualTo(Kind.SIMPLE_QUERY);
        assertThat(answer('D')).isEqualTo(Kind.SIMPLE_QUERY);
        assertThat(answer('C')).isEqualTo(Kind.SIMPLE_QUERY);
        assertThat(answer('Z')).isEqualTo(Kind.SIMPLE_QUERY);
    }

    @Test
    void requestsSentAfterAnErrorAndBeforeSyncAreIgnoredLikeTheServerDoes() {
        send(Kind.PARSE, "", "bad");
        assertThat(answer('E')).isEqualTo(Kind.PARSE);
        send(Kind.BIND, "", null);
        send(Kind.EXECUTE, "", null);
        assertThat(queue.isEmpty()).isTrue();
        send(Kind.SYNC, "", null);
        assertThat(answer('Z')).isEqualTo(Kind.SYNC);
        send(Kind.PARSE, "", "SELECT 1");
        assertThat(answer('1')).isEqualTo(Kind.PARSE);
    }

    @Test
    void simpleQueryWithSeveralStatementsAndAnError() {
        send(Kind.SIMPLE_QUERY, "", "SELECT 1; SELECT 1/0; SELECT 3");
        assertThat(answer('T')).isEqualTo(Kind.SIMPLE_QUERY);
        assertThat(answer('D')).isEqualTo(Kind.SIMPLE_QUERY);
        assertThat(answer('C')).isEqualTo(Kind.SIMPLE_QUERY);
        assertThat(answer('E')).isEqualTo(Kind.SIMPLE_QUERY);
        assertThat(answer('Z')).isEqualTo(Kind.SIMPLE_QUERY);
        assertThat(queue.isEmpty()).isTrue();
    }

    @Test
    void copyInsideASimpleQuery() {
        send(Kind.SIMPLE_QUERY, "", "COPY t FROM STDIN");
        assertThat(answer('G')).isEqualTo(Kind.SIMPLE_QUERY);
        assertThat(answer('C')).isEqualTo(Kind.SIMPLE_QUERY);
        assertThat(answer('Z')).isEqualTo(Kind.SIMPLE_QUERY);
    }

    @Test
    void describeStatementAndPortalSuspension() {
        send(Kind.DESCRIBE_STATEMENT, "s", "SELECT $1");
        send(Kind.EXECUTE, "p", null);
        send(Kind.SYNC, "", null);
        assertThat(answer('t')).isEqualTo(Kind.DESCRIBE_STATEMENT);
        assertThat(answer('n')).isEqualTo(Kind.DESCRIBE_STATEMENT);
        assertThat(answer('D')).isEqualTo(Kind.EXECUTE);
        assertThat(answer('s')).isEqualTo(Kind.EXECUTE);
        assertThat(answer('Z')).isEqualTo(Kind.SYNC);
    }

    @Test
    void aReplyThatAnswersNothingIsAProtocolError() {
        assertThatThrownBy(() -> queue.attribute('1')).isInstanceOf(ProtocolException.class)
                .hasMessageContaining("does not answer the request in flight (none)");
        send(Kind.PARSE, "", "SELECT 1");
        assertThatThrownBy(() -> queue.attribute('D')).isInstanceOf(ProtocolException.class)
                .hasMessageContaining("(PARSE)");
        assertThatThrownBy(() -> queue.attribute('Z')).isInstanceOf(ProtocolException.class);
    }

    @Test
    void statementsAndPortalsAreTrackedByName() {
        queue.sentParse("s1", "SELECT 1");
        queue.sentBind("p1", "s1");
        queue.sentBind("p2", "unknown");
        assertThat(queue.portalSql("p1")).contains("SELECT 1");
        assertThat(queue.portalSql("p2")).isEmpty();
        queue.sentClose(true, "s1");
        assertThat(queue.statementSql("s1")).isEmpty();
        queue.closed(false, "p1");
        assertThat(queue.portalSql("p1")).isEmpty();
    }

    @Test
    void aParseTheServerRefusesLeavesTheStatementItsNameHeld() {
        queue.sentParse("s1", "SELECT 1");
        send(Kind.SYNC, "", null);
        assertThat(answer('1')).isEqualTo(Kind.PARSE);
        assertThat(answer('Z')).isEqualTo(Kind.SYNC);

        // 42P05: the name is in use. The server keeps its statement, and so must the proxy.
        queue.sentParse("s1", "SELECT 2");
        queue.sentBind("p1", "s1");
        send(Kind.SYNC, "", null);
        assertThat(queue.statementSql("s1")).contains("SELECT 2"); // as the Bind behind it must see it
        assertThat(answer('E')).isEqualTo(Kind.PARSE);
        assertThat(answer('Z')).isEqualTo(Kind.SYNC);
        assertThat(queue.statementSql("s1")).contains("SELECT 1");
        assertThat(queue.portalSql("p1")).isEmpty();
    }

    @Test
    void requestsTheServerDiscardsAfterAnErrorChangeNoName() {
        queue.sentParse("kept", "SELECT 1");
        queue.sentBind("open", "kept");
        send(Kind.SYNC, "", null);
        answer('1');
        answer('2');
        answer('Z');

        send(Kind.EXECUTE, "open", "SELECT 1");
        queue.sentParse("s2", "SELECT 2");
        queue.sentBind("open", "s2");
        queue.sentClose(true, "kept");
        queue.sentParse("s3", "SELECT 3");
        send(Kind.SYNC, "", null);
        assertThat(answer('E')).isEqualTo(Kind.EXECUTE);
        assertThat(answer('Z')).isEqualTo(Kind.SYNC);

        assertThat(queue.statementSql("s2")).isEmpty();
        assertThat(queue.statementSql("s3")).isEmpty();
        assertThat(queue.statementSql("kept")).contains("SELECT 1");
        assertThat(queue.portalSql("open")).contains("SELECT 1");
    }

    @Test
    void aParseSentWhileTheServerSkipsToSyncDefinesNothing() {
        send(Kind.EXECUTE, "", null);
        assertThat(answer('E')).isEqualTo(Kind.EXECUTE); // no Sync queued yet: the server skips what follows
        queue.sentParse("late", "SELECT 4");
        queue.sentBind("late_portal", "late");
        assertThat(queue.statementSql("late")).isEmpty();
        assertThat(queue.portalSql("late_portal")).isEmpty();
        send(Kind.SYNC, "", null);
        assertThat(answer('Z')).isEqualTo(Kind.SYNC);

        queue.sentParse("late", "SELECT 4");
        assertThat(queue.statementSql("late")).contains("SELECT 4");
    }

    @Test
    void aFailedParseOrBindOfTheUnnamedOneLeavesNone() {
        queue.sentParse("", "SELECT 1");
        queue.sentBind("", "");
        send(Kind.SYNC, "", null);
        answer('1');
        answer('2');
        answer('Z');

        // PostgreSQL drops the unnamed statement as the next Parse of it begins, failed or not.
        queue.sentParse("", "SELECT nonsense(");
        send(Kind.SYNC, "", null);
        assertThat(answer('E')).isEqualTo(Kind.PARSE);
        answer('Z');
        assertThat(queue.statementSql("")).isEmpty();
        assertThat(queue.portalSql("")).contains("SELECT 1");

        queue.sentParse("", "SELECT 5");
        queue.sentBind("", "");
        send(Kind.SYNC, "", null);
        answer('1');
        assertThat(answer('E')).isEqualTo(Kind.BIND);
        answer('Z');
        assertThat(queue.statementSql("")).contains("SELECT 5");
        assertThat(queue.portalSql("")).isEmpty();
    }
}
