package dev.pgpolicy.proxy.dryrun;

import static dev.pgpolicy.proxy.dryrun.CaptureFiles.ACK;
import static dev.pgpolicy.proxy.dryrun.CaptureFiles.CLIENT_V4;
import static dev.pgpolicy.proxy.dryrun.CaptureFiles.FIN_ACK;
import static dev.pgpolicy.proxy.dryrun.CaptureFiles.PSH_ACK;
import static dev.pgpolicy.proxy.dryrun.CaptureFiles.SERVER_V4;
import static dev.pgpolicy.proxy.dryrun.CaptureFiles.SYN;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpolicy.proxy.dryrun.CaptureFiles.Frame;
import dev.pgpolicy.proxy.wire.Bind;
import dev.pgpolicy.proxy.wire.Bytes;
import dev.pgpolicy.proxy.wire.Close;
import dev.pgpolicy.proxy.wire.Execute;
import dev.pgpolicy.proxy.wire.Parse;
import dev.pgpolicy.proxy.wire.Query;
import dev.pgpolicy.proxy.wire.SSLRequest;
import dev.pgpolicy.proxy.wire.StartupMessage;
import dev.pgpolicy.proxy.wire.Sync;
import dev.pgpolicy.proxy.wire.TargetKind;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TCP reassembly and client-stream decoding on hand-built captures: order, retransmissions,
 * overlaps, losses, mid-stream starts, sequence wrap-around, the extended protocol, link types,
 * and libpcap against pcapng.
 */
class PcapReassemblyTest {
    private static final int CLIENT_PORT = 40_000;
    private static final int SERVER_PORT = 5432;
    private static final Instant START = Instant.parse("2026-03-04T10:00:00.123456Z");

    @TempDir
    Path directory;

    /** One TCP connection's segments as a client and a server exchange them. */
    private static final class Connection {
        private final List<Frame> frames = new ArrayList<>();
        private long clientSequence;
        private long serverSequence = 5_000;
        private int tick;

        Connection(long clientIsn) {
            this.clientSequence = clientIsn;
        }

        private Instant next() {
            return START.plusMillis(tick++);
        }

        Connection handshake() {
            frames.add(client(clientSequence, SYN, new byte[0]));
            frames.add(server(serverSequence, SYN | ACK, new byte[0]));
            frames.add(client(clientSequence + 1, ACK, new byte[0]));
            clientSequence = (clientSequence + 1) & 0xFFFF_FFFFL;
            serverSequence++;
            return this;
        }

        /** Client bytes cut into segments of at most {@code mss} bytes; returns the frames added. */
        List<Frame> send(byte[] bytes, int mss) {
            List<Frame> added = new ArrayList<>();
            for (int offset = 0; offset < bytes.length; offset += mss) {
                byte[] part = Arrays.copyOfRange(bytes, offset, Math.min(bytes.length, offset + mss));
                Frame frame = client(clientSequence, PSH_ACK, part);
                added.add(frame);
                frames.add(frame);
                clientSequence = (clientSequence + part.length) & 0xFFFF_FFFFL;
            }
            return added;
        }

        Connection reply(byte[] bytes) {
            frames.add(server(serverSequence, PSH_ACK, bytes));
            serverSequence += bytes.length;
            return this;
        }

        Connection close() {
            frames.add(client(clientSequence, FIN_ACK, new byte[0]));
            frames.add(server(serverSequence, FIN_ACK, new byte[0]));
            return this;
        }

        Frame client(long sequence, int flags, byte[] payload) {
            return new Frame(1, next(), CaptureFiles.ethernet(CaptureFiles.ipv4Tcp(CLIENT_V4, CLIENT_PORT, SERVER_V4,
                    SERVER_PORT, sequence, flags, payload), 0x0800));
        }

        Frame server(long sequence, int flags, byte[] payload) {
            return new Frame(1, next(), CaptureFiles.ethernet(CaptureFiles.ipv4Tcp(SERVER_V4, SERVER_PORT, CLIENT_V4,
                    CLIENT_PORT, sequence, flags, payload), 0x0800));
        }
    }

    private static byte[] startup(String user) {
        Map<String, String> parameters = new LinkedHashMap<>();
        parameters.put("user", user);
        parameters.put("database", "shop");
        parameters.put("application_name", "billing");
        return CaptureFiles.wire(StartupMessage.of(parameters));
    }

    private static byte[] query(String sql) {
        return CaptureFiles.wire(new Query(sql));
    }

    private RecordingSink read(byte[] file) throws IOException {
        Path path = directory.resolve("capture-" + System.nanoTime());
        Files.write(path, file);
        RecordingSink sink = new RecordingSink();
        TrafficReaders.read(path, Optional.empty(), TrafficReaders.DEFAULT_SERVER_PORTS, sink);
        return sink;
    }

    @Test
    void inOrderConnectionYieldsSessionAttributesAndQueries() throws IOException {
        Connection connection = new Connection(1_000).handshake();
        connection.send(startup("ana"), 1460);
        connection.reply(new byte[] {'R', 0, 0, 0, 8, 0, 0, 0, 0});
        connection.send(query("SELECT 1"), 1460);
        connection.send(query("SELECT email FROM customers WHERE id = 7; SELECT 2"), 1460);
        connection.close();

        RecordingSink sink = read(CaptureFiles.pcap(1, connection.frames));

        assertThat(sink.problems).isEmpty();
        assertThat(sink.sql()).containsExactly("SELECT 1", "SELECT email FROM customers WHERE id = 7; SELECT 2");
        CapturedSession session = sink.statements.get(0).session();
        assertThat(session.user()).contains("ana");
        assertThat(session.database()).isEqualTo("shop");
        assertThat(session.applicationName()).isEqualTo("billing");
        assertThat(session.clientIp().getHostAddress()).isEqualTo("127.0.0.1");
        assertThat(sink.statements.get(0).time()).isEqualTo(START.plusMillis(5)); // the packet that completed the Query: SYN, SYN-ACK, ACK, startup, reply, query
    }

    @Test
    void outOfOrderSegmentsAreReorderedAcrossTheSequenceWrap() throws IOException {
        // The ISN sits just below 2^32, so the stream's sequence numbers wrap to small values mid-way.
        Connection connection = new Connection(0xFFFF_FFF0L).handshake();
        List<Frame> startup = connection.send(startup("ana"), 1460);
        List<Frame> parts = connection.send(concat(query("SELECT 'first'"), query("SELECT 'second'")), 7);
        connection.close();
        List<Frame> shuffled = new ArrayList<>(connection.frames);
        shuffled.removeAll(parts);
        int at = shuffled.indexOf(startup.get(0)) + 1;
        List<Frame> reversed = new ArrayList<>(parts);
        java.util.Collections.reverse(reversed);
        shuffled.addAll(at, reversed);

        RecordingSink sink = read(CaptureFiles.pcap(1, shuffled));

        assertThat(sink.problems).isEmpty();
        assertThat(sink.sql()).containsExactly("SELECT 'first'", "SELECT 'second'");
        assertThat(sink.users()).containsOnly("ana");
    }

    @Test
    void retransmissionsAndOverlapsAreReadOnce() throws IOException {
        Connection connection = new Connection(77).handshake();
        connection.send(startup("ana"), 1460);
        byte[] queries = concat(query("SELECT 1"), query("SELECT 2"), query("SELECT 3"));
        long base = connection.clientSequence;
        List<Frame> parts = connection.send(queries, 10);
        // A retransmission of the second segment, and a segment overlapping the third and fourth.
        connection.frames.add(parts.get(1));
        connection.frames.add(connection.client(base + 25, PSH_ACK, Arrays.copyOfRange(queries, 25, 37)));
        connection.frames.add(parts.get(0));
        connection.close();

        RecordingSink sink = read(CaptureFiles.pcap(1, connection.frames));

        assertThat(sink.problems).isEmpty();
        assertThat(sink.sql()).containsExactly("SELECT 1", "SELECT 2", "SELECT 3");
    }

    @Test
    void aLostSegmentIsAGapAndReadingResumesAtTheNextMessage() throws IOException {
        Connection connection = new Connection(9).handshake();
        connection.send(startup("ana"), 1460);
        connection.send(query("SELECT 'before'"), 1460);
        List<Frame> lost = connection.send(query("SELECT 'lost in the middle of the capture'"), 16);
        connection.send(query("SELECT 'after'"), 1460);
        connection.send(query("SELECT 'last'"), 1460);
        connection.close();
        connection.frames.remove(lost.get(1));

        RecordingSink sink = read(CaptureFiles.pcap(1, connection.frames));

        assertThat(sink.sql()).containsExactly("SELECT 'before'", "SELECT 'after'", "SELECT 'last'");
        // The session is the same connection: its user is still known after the gap.
        assertThat(sink.users()).containsOnly("ana");
        assertThat(sink.problems).hasSize(1);
        assertThat(sink.problems.get(0).message()).contains("16 bytes of the client stream").contains("were not captured");
    }

    @Test
    void aCaptureStartingMidConnectionResynchronisesAndHasNoUser() throws IOException {
        Connection connection = new Connection(500);
        byte[] stream = concat(query("SELECT 'cut'"), query("SELECT 'whole'"), query("SELECT 'again'"));
        // Only the segments from the middle of the first message on were captured: no SYN, no startup.
        long start = connection.clientSequence + 6;
        connection.frames.add(connection.client(start, PSH_ACK, Arrays.copyOfRange(stream, 6, stream.length)));
        connection.frames.add(connection.server(9_000, PSH_ACK, new byte[] {'Z', 0, 0, 0, 5, 'I'}));

        RecordingSink sink = read(CaptureFiles.pcap(1, connection.frames));

        assertThat(sink.sql()).containsExactly("SELECT 'whole'", "SELECT 'again'");
        assertThat(sink.users()).containsOnly(CapturedSession.UNKNOWN_USER);
        assertThat(sink.notices).anySatisfy(n -> assertThat(n.message()).contains("unknown user"));
        assertThat(sink.notices).anySatisfy(n -> assertThat(n.message()).contains("resynchronised").contains("skipping 12 bytes"));
    }

    @Test
    void extendedProtocolCountsEachExecutionOfAPreparedStatement() throws IOException {
        Connection connection = new Connection(1).handshake();
        connection.send(startup("app"), 1460);
        List<Bind> binds = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            binds.add(new Bind("", "P_1", List.of(), List.of(Optional.of(Bytes.of(String.valueOf(i).getBytes(StandardCharsets.UTF_8)))),
                    List.of()));
        }
        connection.send(CaptureFiles.wire(new Parse("P_1", "SELECT abalance FROM accounts WHERE aid = $1", List.of()),
                binds.get(0), new Execute("", 0), Sync.INSTANCE), 1460);
        connection.send(CaptureFiles.wire(binds.get(1), new Execute("", 0), Sync.INSTANCE), 1460);
        // A row limit: the second Execute continues the same portal and is not a new execution.
        connection.send(CaptureFiles.wire(binds.get(2), new Execute("", 1), new Execute("", 1), Sync.INSTANCE), 1460);
        // After Close, a Bind to the statement has nothing to run.
        connection.send(CaptureFiles.wire(new Close(TargetKind.STATEMENT, "P_1"), Sync.INSTANCE), 1460);
        connection.send(CaptureFiles.wire(binds.get(0), new Execute("", 0), Sync.INSTANCE), 1460);
        connection.send(CaptureFiles.wire(new Parse("", "UPDATE accounts SET abalance = 0", List.of()),
                new Bind("", "", List.of(), List.of(), List.of()), new Execute("", 0), Sync.INSTANCE), 1460);
        connection.close();

        RecordingSink sink = read(CaptureFiles.pcap(1, connection.frames));

        assertThat(sink.problems).isEmpty();
        assertThat(sink.notices).singleElement().satisfies(n -> assertThat(n.message()).contains("1 execution(s)"));
        assertThat(sink.sql()).containsExactly(
                "SELECT abalance FROM accounts WHERE aid = $1",
                "SELECT abalance FROM accounts WHERE aid = $1",
                "SELECT abalance FROM accounts WHERE aid = $1",
                "UPDATE accounts SET abalance = 0");
    }

    @Test
    void pcapngAndPcapGiveTheSameStatementsAndTimes() throws IOException {
        Connection connection = new Connection(42).handshake();
        connection.send(startup("ana"), 1460);
        connection.send(query("SELECT 1"), 1460);
        connection.send(query("SELECT 2"), 3);
        connection.close();

        RecordingSink pcap = read(CaptureFiles.pcap(1, connection.frames));
        RecordingSink pcapng = read(CaptureFiles.pcapng(1, connection.frames));

        assertThat(pcapng.problems).isEmpty();
        assertThat(pcapng.statements).isEqualTo(pcap.statements).hasSize(2);
    }

    @Test
    void linuxCookedSll2Ipv6SllAndBsdLoopbackLinkTypesAreRead() throws IOException {
        byte[] client = new byte[16];
        client[15] = 1;
        byte[] server = client.clone();
        List<Frame> sll2 = new ArrayList<>();
        byte[] stream = concat(startup("ana"), query("SELECT 6"));
        sll2.add(new Frame(276, START, CaptureFiles.sll2(CaptureFiles.ipv6Tcp(client, CLIENT_PORT, server, 6432, 10, SYN,
                new byte[0]), 0x86DD)));
        sll2.add(new Frame(276, START, CaptureFiles.sll2(CaptureFiles.ipv6Tcp(client, CLIENT_PORT, server, 6432, 11,
                PSH_ACK, stream), 0x86DD)));
        RecordingSink cooked = read(CaptureFiles.pcap(276, sll2));
        assertThat(cooked.sql()).containsExactly("SELECT 6");
        assertThat(cooked.statements.get(0).session().clientIp().getHostAddress()).isEqualTo("0:0:0:0:0:0:0:1");

        List<Frame> cookedV1 = new ArrayList<>();
        cookedV1.add(new Frame(113, START, CaptureFiles.sll(CaptureFiles.ipv4Tcp(CLIENT_V4, CLIENT_PORT, SERVER_V4,
                SERVER_PORT, 10, SYN, new byte[0]), 0x0800)));
        cookedV1.add(new Frame(113, START, CaptureFiles.sll(CaptureFiles.ipv4Tcp(CLIENT_V4, CLIENT_PORT, SERVER_V4,
                SERVER_PORT, 11, PSH_ACK, concat(startup("cy"), query("SELECT 7"))), 0x0800)));
        RecordingSink cookedSll = read(CaptureFiles.pcap(113, cookedV1));
        assertThat(cookedSll.sql()).containsExactly("SELECT 7");
        assertThat(cookedSll.users()).containsExactly("cy");

        List<Frame> loopback = new ArrayList<>();
        loopback.add(new Frame(0, START, CaptureFiles.bsdLoopback(CaptureFiles.ipv4Tcp(CLIENT_V4, CLIENT_PORT, SERVER_V4,
                SERVER_PORT, 10, SYN, new byte[0]), 2)));
        loopback.add(new Frame(0, START, CaptureFiles.bsdLoopback(CaptureFiles.ipv4Tcp(CLIENT_V4, CLIENT_PORT, SERVER_V4,
                SERVER_PORT, 11, PSH_ACK, concat(startup("bob"), query("SELECT 4"))), 2)));
        RecordingSink bsd = read(CaptureFiles.pcap(0, loopback));
        assertThat(bsd.sql()).containsExactly("SELECT 4");
        assertThat(bsd.users()).containsExactly("bob");
    }

    @Test
    void aTlsConnectionIsSkippedWithANotice() throws IOException {
        Connection connection = new Connection(3).handshake();
        connection.send(CaptureFiles.wire(SSLRequest.INSTANCE), 1460);
        connection.reply(new byte[] {'S'});
        connection.send(new byte[] {0x16, 0x03, 0x01, 0x00, 0x20, 1, 2, 3, 4, 5, 6, 7, 8}, 1460);
        connection.close();

        RecordingSink sink = read(CaptureFiles.pcap(1, connection.frames));

        assertThat(sink.statements).isEmpty();
        assertThat(sink.problems).isEmpty();
        assertThat(sink.notices).singleElement().satisfies(n -> assertThat(n.message()).contains("encrypted"));
    }

    @Test
    void aSslRequestRefusedByTheServerIsFollowedByAPlaintextStartup() throws IOException {
        Connection connection = new Connection(3).handshake();
        connection.send(CaptureFiles.wire(SSLRequest.INSTANCE), 1460);
        connection.reply(new byte[] {'N'});
        connection.send(concat(startup("ana"), query("SELECT 5")), 1460);
        connection.close();

        RecordingSink sink = read(CaptureFiles.pcap(1, connection.frames));

        assertThat(sink.sql()).containsExactly("SELECT 5");
        assertThat(sink.users()).containsExactly("ana");
    }

    @Test
    void aTruncatedFileNamesTheOffsetAndKeepsWhatWasRead() throws IOException {
        Connection connection = new Connection(5).handshake();
        connection.send(startup("ana"), 1460);
        connection.send(query("SELECT 'kept'"), 1460);
        connection.send(query("SELECT 'cut off'"), 1460);
        byte[] whole = CaptureFiles.pcap(1, connection.frames);
        int lastRecord = whole.length - (16 + connection.frames.get(connection.frames.size() - 1).bytes().length);
        byte[] truncated = Arrays.copyOf(whole, lastRecord + 16 + 20);

        RecordingSink sink = read(truncated);

        assertThat(sink.sql()).containsExactly("SELECT 'kept'");
        assertThat(sink.problems).anySatisfy(p -> {
            assertThat(p.offset()).isEqualTo(lastRecord);
            assertThat(p.message()).contains("file ends inside a packet record");
        });
    }

    @Test
    void aFileThatIsNotACaptureIsRefusedByItsMagicNumber() throws IOException {
        RecordingSink sink = new RecordingSink();
        Path path = directory.resolve("garbage.pcap");
        Files.write(path, new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
        TrafficReaders.read(path, Optional.of(InputFormat.PCAP), TrafficReaders.DEFAULT_SERVER_PORTS, sink);
        assertThat(sink.problems).singleElement().satisfies(p -> {
            assertThat(p.offset()).isZero();
            assertThat(p.message()).contains("not a pcap or pcapng file");
        });
    }

    @Test
    void mutatedAndCutCapturesOnlyEverYieldProblems() throws IOException {
        Connection connection = new Connection(11).handshake();
        connection.send(startup("ana"), 1460);
        connection.send(concat(CaptureFiles.wire(new Parse("s", "SELECT $1", List.of()),
                new Bind("", "s", List.of(), List.of(Optional.of(Bytes.utf8("1"))), List.of()), new Execute("", 0),
                Sync.INSTANCE), query("SELECT 'x'")), 9);
        connection.close();
        java.util.Random random = new java.util.Random(20_260_304L);
        for (byte[] original : List.of(CaptureFiles.pcap(1, connection.frames), CaptureFiles.pcapng(1, connection.frames))) {
            for (int round = 0; round < 300; round++) {
                byte[] mutated = original.clone();
                int flips = 1 + random.nextInt(8);
                for (int i = 0; i < flips; i++) {
                    mutated[random.nextInt(mutated.length)] ^= (byte) (1 << random.nextInt(8));
                }
                if (random.nextInt(4) == 0) {
                    mutated = Arrays.copyOf(mutated, random.nextInt(mutated.length));
                }
                // Whatever the damage, reading ends normally; what it found is statements, problems and notices.
                RecordingSink sink = read(mutated);
                assertThat(sink.statements.size()).isLessThanOrEqualTo(4);
            }
        }
    }

    private static byte[] concat(byte[]... parts) {
        return CaptureFiles.concat(parts);
    }
}
