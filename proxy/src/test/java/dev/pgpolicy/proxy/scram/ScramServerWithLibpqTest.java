package dev.pgpolicy.proxy.scram;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpolicy.proxy.embedded.ExternalCommand;
import dev.pgpolicy.proxy.embedded.PostgresBinaries;
import dev.pgpolicy.proxy.embedded.ProcessResult;
import dev.pgpolicy.proxy.tls.CertificateAuthority;
import dev.pgpolicy.proxy.tls.CertifiedKey;
import dev.pgpolicy.proxy.wire.AuthenticationOk;
import dev.pgpolicy.proxy.wire.BackendMessage;
import dev.pgpolicy.proxy.wire.EmptyQueryResponse;
import dev.pgpolicy.proxy.wire.FrontendMessages;
import dev.pgpolicy.proxy.wire.ParameterStatus;
import dev.pgpolicy.proxy.wire.RawFrame;
import dev.pgpolicy.proxy.wire.ReadyForQuery;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Our server side judged by libpq: psql authenticates against a minimal endpoint that runs
 * {@link ScramServer} (TLS with tls-server-end-point binding, then AuthenticationOk and an idle
 * ReadyForQuery). libpq checks our ServerSignature and, with {@code channel_binding=require},
 * refuses anything but a bound SCRAM-SHA-256-PLUS exchange.
 */
class ScramServerWithLibpqTest {
    private static final String PASSWORD = "libpq \u00E9t\u00E9 \u2168";
    private static final ScramVerifier ANA = ScramVerifier.generate(PASSWORD.toCharArray(), 4096, new SecureRandom());
    private static final MockVerifiers MOCKS = MockVerifiers.random(4096);

    @TempDir
    static Path dir;
    private static CertifiedKey serverKey;
    private static Path caFile;

    @BeforeAll
    static void certificates() {
        CertificateAuthority authority = CertificateAuthority.generate("scram test CA");
        serverKey = authority.issueLocalhostServer();
        caFile = dir.resolve("ca.crt");
        authority.writeCertificate(caFile);
    }

    /** What the endpoint saw of one connection. */
    record Seen(boolean tls, String user, ScramServer.Stage stage, boolean channelBound) {
    }

    @Test
    void psqlWithChannelBindingRequireAuthenticates() throws Exception {
        Run run = psql("ana", PASSWORD, "sslmode=verify-full channel_binding=require");
        assertThat(run.result().succeeded()).as(run.result().describe()).isTrue();
        assertThat(run.seen()).isEqualTo(new Seen(true, "ana", ScramServer.Stage.SUCCEEDED, true));
    }

    @Test
    void psqlWithoutTlsAndChannelBindingDisabledAuthenticates() throws Exception {
        Run run = psql("ana", PASSWORD, "sslmode=disable channel_binding=disable");
        assertThat(run.result().succeeded()).as(run.result().describe()).isTrue();
        assertThat(run.seen()).isEqualTo(new Seen(false, "ana", ScramServer.Stage.SUCCEEDED, false));
    }

    @Test
    void wrongPasswordAndUnknownUserGetTheSameError() throws Exception {
        Run wrong = psql("ana", "guess", "sslmode=verify-full");
        Run unknown = psql("ghost", "guess", "sslmode=verify-full");
        assertThat(wrong.result().succeeded()).isFalse();
        assertThat(unknown.result().succeeded()).isFalse();
        assertThat(wrong.result().stderr()).contains("FATAL:  password authentication failed for user \"ana\"");
        assertThat(unknown.result().stderr()).contains("FATAL:  password authentication failed for user \"ghost\"");
        assertThat(wrong.result().stderr().replace("\"ana\"", "\"ghost\"").replaceAll("port \\d+", "port N"))
                .isEqualTo(unknown.result().stderr().replaceAll("port \\d+", "port N"));
        assertThat(wrong.seen().stage()).isEqualTo(ScramServer.Stage.FAILED);
        assertThat(unknown.seen().stage()).isEqualTo(ScramServer.Stage.FAILED);
    }

    record Run(ProcessResult result, Seen seen) {
    }

    private Run psql(String user, String password, String options) throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<Seen> seen = CompletableFuture.supplyAsync(() -> serveOne(listener));
            String conninfo = "host=localhost hostaddr=127.0.0.1 port=" + listener.getLocalPort()
                    + " user=" + user + " dbname=postgres sslrootcert=" + caFile + " connect_timeout=10 " + options;
            ProcessResult result = ExternalCommand.of(PostgresBinaries.locate().psql().toString(), "-X", "-w", "-q",
                            "-d", conninfo, "-c", "")
                    .environment(Map.of("PGPASSWORD", password, "PGSSLCERT", dir.resolve("none.crt").toString()))
                    .timeout(Duration.ofSeconds(30))
                    .run();
            return new Run(result, seen.get(30, TimeUnit.SECONDS));
        }
    }

    /** One connection: optional TLS, startup, SCRAM with {@link ScramServer}, then an idle session. */
    private static Seen serveOne(ServerSocket listener) {
        try (Socket accepted = listener.accept()) {
            accepted.setSoTimeout(20_000);
            Socket socket = accepted;
            DataInputStream in = new DataInputStream(socket.getInputStream());
            int length = in.readInt();
            int code = in.readInt();
            boolean tls = false;
            if (code == 80877103) {
                socket.getOutputStream().write('S');
                SSLSocket secure = (SSLSocket) serverContext().getSocketFactory()
                        .createSocket(socket, null, socket.getPort(), false);
                secure.setUseClientMode(false);
                secure.startHandshake();
                socket = secure;
                tls = true;
                in = new DataInputStream(socket.getInputStream());
                length = in.readInt();
                code = in.readInt();
            }
            byte[] body = new byte[length - 8];
            in.readFully(body);
            String user = startupParameters(body).get("user");
            OutputStream out = socket.getOutputStream();
            Optional<ChannelBinding> binding = tls ? ChannelBinding.tlsServerEndPoint(serverKey.certificate()) : Optional.empty();
            ScramServer server = ScramServer.start(user, "ana".equals(user) ? Optional.of(ANA) : Optional.empty(),
                    MOCKS, binding);
            write(out, server.offer());
            ScramServer.Outcome outcome = server.onInitialResponse(readFrame(in, FrontendMessages::decodeSaslInitialResponse));
            while (outcome instanceof ScramServer.Challenge challenge) {
                write(out, challenge.message());
                outcome = server.onResponse(readFrame(in, FrontendMessages::decodeSaslResponse));
            }
            if (outcome instanceof ScramServer.Failure failure) {
                write(out, failure.toErrorResponse());
            } else {
                write(out, ((ScramServer.Success) outcome).message());
                write(out, AuthenticationOk.INSTANCE);
                write(out, new ParameterStatus("server_version", "15.0"));
                write(out, new ParameterStatus("client_encoding", "UTF8"));
                write(out, new ParameterStatus("standard_conforming_strings", "on"));
                write(out, ReadyForQuery.IDLE);
                // psql -c "" sends one empty Query, then Terminate.
                int type;
                while ((type = in.read()) == 'Q') {
                    byte[] query = new byte[in.readInt() - 4];
                    in.readFully(query);
                    write(out, EmptyQueryResponse.INSTANCE);
                    write(out, ReadyForQuery.IDLE);
                }
                assertThat(type).isIn((int) 'X', -1);
            }
            return new Seen(tls, user, server.stage(), server.channelBound());
        } catch (Exception e) {
            throw new IllegalStateException("test endpoint failed", e);
        }
    }

    private static <T> T readFrame(DataInputStream in, java.util.function.Function<RawFrame, T> decoder) throws IOException {
        int type = in.read();
        int length = in.readInt();
        byte[] body = new byte[length - 4];
        in.readFully(body);
        ByteBuf frame = Unpooled.wrappedBuffer(ByteBuffer.allocate(1 + length).put((byte) type).putInt(length).put(body).array());
        RawFrame raw = RawFrame.wrap(frame);
        try {
            return decoder.apply(raw);
        } finally {
            raw.release();
        }
    }

    private static void write(OutputStream out, BackendMessage message) throws IOException {
        ByteBuf buffer = Unpooled.buffer();
        try {
            message.encode(buffer);
            out.write(ByteBufUtil.getBytes(buffer));
            out.flush();
        } finally {
            buffer.release();
        }
    }

    private static Map<String, String> startupParameters(byte[] body) {
        Map<String, String> parameters = new HashMap<>();
        int position = 0;
        while (position < body.length && body[position] != 0) {
            int end = position;
            while (body[end] != 0) {
                end++;
            }
            String name = new String(body, position, end - position, StandardCharsets.UTF_8);
            int valueEnd = end + 1;
            while (body[valueEnd] != 0) {
                valueEnd++;
            }
            parameters.put(name, new String(body, end + 1, valueEnd - end - 1, StandardCharsets.UTF_8));
            position = valueEnd + 1;
        }
        return parameters;
    }

    private static SSLContext serverContext() throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        char[] storePassword = "unused".toCharArray();
        store.setKeyEntry("server", serverKey.privateKey(), storePassword,
                serverKey.chain().toArray(new Certificate[0]));
        KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keys.init(store, storePassword);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(keys.getKeyManagers(), null, new SecureRandom());
        return context;
    }
}
