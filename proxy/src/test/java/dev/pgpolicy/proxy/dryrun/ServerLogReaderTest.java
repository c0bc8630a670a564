package dev.pgpolicy.proxy.dryrun;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** csvlog and jsonlog entries as PostgreSQL 15 writes them with log_statement = all. */
class ServerLogReaderTest {
    @TempDir
    Path directory;

    private RecordingSink read(String name, String text) throws IOException {
        Path file = directory.resolve(name);
        Files.writeString(file, text);
        RecordingSink sink = new RecordingSink();
        TrafficReaders.read(file, Optional.empty(), TrafficReaders.DEFAULT_SERVER_PORTS, sink);
        return sink;
    }

    @Test
    void csvlogStatementsSpanLinesAndExecutesCountOnce() throws IOException {
        String csv = """
                2026-03-04 10:00:00.123 UTC,"ana","shop",4242,"10.1.2.3:51234",65e5a0b0.1092,1,"idle",2026-03-04 09:59:59 UTC,3/7,0,LOG,00000,"statement: SELECT email
                  FROM customers
                 WHERE note = 'a ""quoted"", multi-line
                value'",,,,,,,,,"psql","client backend",,0
                2026-03-04 10:00:01.000 UTC,"ana","shop",4242,"10.1.2.3:51234",65e5a0b0.1092,2,"SELECT",2026-03-04 09:59:59 UTC,3/8,0,LOG,00000,"execute P_1: SELECT 1",,,,,,,,,"psql","client backend",,0
                2026-03-04 10:00:02.000 UTC,"ana","shop",4242,"10.1.2.3:51234",65e5a0b0.1092,3,"SELECT",2026-03-04 09:59:59 UTC,3/8,0,LOG,00000,"execute fetch from <unnamed>/C_1: SELECT 1",,,,,,,,,"psql","client backend",,0
                2026-03-04 10:00:03.000 UTC,"ana","shop",4242,"10.1.2.3:51234",65e5a0b0.1092,4,"SELECT",2026-03-04 09:59:59 UTC,3/9,0,LOG,00000,"duration: 0.050 ms  statement: SELECT 2",,,,,,,,,"psql","client backend",,0
                2026-03-04 10:00:04.000 UTC,"bob","shop",4243,"[local]",65e5a0b0.1093,1,"idle",2026-03-04 09:59:59 UTC,4/1,0,ERROR,42P01,"relation ""nope"" does not exist",,,,,,"SELECT * FROM nope",15,,"","client backend",,0
                2026-03-04 10:00:05.000 UTC,"bob","shop",4243,"[local]",65e5a0b0.1093,2,"idle",2026-03-04 09:59:59 UTC,4/2,0,LOG,00000,"statement: SELECT 3",,,,,,,,,"","client backend",,0
                """;
        RecordingSink sink = read("server.csv", csv);

        assertThat(sink.problems).isEmpty();
        assertThat(sink.sql()).containsExactly(
                "SELECT email\n  FROM customers\n WHERE note = 'a \"quoted\", multi-line\nvalue'",
                "SELECT 1",
                "SELECT 3");
        CapturedStatement first = sink.statements.get(0);
        assertThat(first.session().user()).contains("ana");
        assertThat(first.session().database()).isEqualTo("shop");
        assertThat(first.session().applicationName()).isEqualTo("psql");
        assertThat(first.session().clientIp().getHostAddress()).isEqualTo("10.1.2.3");
        assertThat(first.time()).isEqualTo(Instant.parse("2026-03-04T10:00:00.123Z"));
        // [local] is a Unix socket: no client address, which a client_ip condition treats as an error.
        assertThat(sink.statements.get(2).session().clientIp()).isNull();
    }

    @Test
    void csvlogEndingInsideAQuotedFieldIsReported() throws IOException {
        RecordingSink sink = read("cut.csv", """
                2026-03-04 10:00:00.123 UTC,"ana","shop",4242,"10.1.2.3:51234",65e5a0b0.1092,1,"idle",2026-03-04 09:59:59 UTC,3/7,0,LOG,00000,"statement: SELECT 1",,,,,,,,,"psql","client backend",,0
                2026-03-04 10:00:01.000 UTC,"ana","shop",4242,"10.1.2.3:51234",65e5a0b0.1092,2,"idle",2026-03-04 09:59:59 UTC,3/8,0,LOG,00000,"statement: SELECT 'never
                """);
        assertThat(sink.sql()).containsExactly("SELECT 1");
        assertThat(sink.problems).singleElement().satisfies(p -> assertThat(p.message()).contains("line 2").contains("quoted field"));
    }

    @Test
    void jsonlogEntriesWithAndWithoutApplicationName() throws IOException {
        String json = """
                {"timestamp":"2026-03-04 10:00:00.500 UTC","user":"ana","dbname":"shop","pid":4242,"remote_host":"::1","remote_port":51234,"session_id":"65e5a0b0.1092","line_num":1,"ps":"idle","session_start":"2026-03-04 09:59:59 UTC","vxid":"3/7","txid":0,"error_severity":"LOG","message":"statement: SELECT 1;\\nSELECT 2","application_name":"metabase","backend_type":"client backend","query_id":0}
                {"timestamp":"2026-03-04 10:00:01.000 UTC","user":"ana","dbname":"shop","pid":4242,"remote_host":"::1","remote_port":51234,"session_id":"65e5a0b0.1092","line_num":2,"ps":"SELECT","session_start":"2026-03-04 09:59:59 UTC","vxid":"3/8","txid":0,"error_severity":"LOG","message":"execute <unnamed>: SELECT $1","backend_type":"client backend","query_id":0}
                not json
                """;
        RecordingSink sink = read("server.json", json);

        assertThat(sink.sql()).containsExactly("SELECT 1;\nSELECT 2", "SELECT $1");
        assertThat(sink.statements.get(0).session().applicationName()).isEqualTo("metabase");
        assertThat(sink.statements.get(1).session().applicationName()).isEmpty();
        assertThat(sink.statements.get(0).session().clientIp().getHostAddress()).isEqualTo("0:0:0:0:0:0:0:1");
        assertThat(sink.problems).singleElement().satisfies(p -> assertThat(p.message()).contains("line 3"));
    }

    @Test
    void logTimesInOtherZonesAndHostNamesWithoutLookups() {
        assertThat(ServerLogReader.parseTime("2026-03-04 11:00:00.000 +01")).contains(Instant.parse("2026-03-04T10:00:00Z"));
        assertThat(ServerLogReader.parseTime("2026-03-04 10:00:00 UTC")).contains(Instant.parse("2026-03-04T10:00:00Z"));
        assertThat(ServerLogReader.parseTime("yesterday")).isEmpty();
        assertThat(ServerLogReader.host("db.example.com:5432", true)).isEmpty();
        assertThat(ServerLogReader.host("10.0.0.7:5432", true).map(a -> a.getHostAddress())).contains("10.0.0.7");
    }
}
