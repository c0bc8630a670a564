package dev.pgpolicy.proxy.testing;

import dev.pgpolicy.proxy.scram.ScramClient;
import dev.pgpolicy.proxy.scram.ScramException;
import dev.pgpolicy.proxy.wire.AuthenticationOk;
import dev.pgpolicy.proxy.wire.AuthenticationSASL;
import dev.pgpolicy.proxy.wire.AuthenticationSASLContinue;
import dev.pgpolicy.proxy.wire.AuthenticationSASLFinal;
import dev.pgpolicy.proxy.wire.BackendMessages;
import dev.pgpolicy.proxy.wire.Bind;
import dev.pgpolicy.proxy.wire.Bytes;
import dev.pgpolicy.proxy.wire.Execute;
import dev.pgpolicy.proxy.wire.RawFrame;
import dev.pgpolicy.proxy.wire.Sync;
import dev.pgpolicy.proxy.wire.WireMessage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A logged-in protocol session over a {@link RawSocket}, for what no driver sends: a protocol
 * Bind naming a statement prepared with SQL {@code PREPARE} (pgjdbc only binds statements it
 * parsed itself, psql never binds a named statement). Logs in with SCRAM-SHA-256 through the
 * project's own client, without TLS.
 */
public final class WireSession implements AutoCloseable {

    private final RawSocket socket;

    private WireSession(RawSocket socket) {
        this.socket = socket;
    }

    public static WireSession login(String host, int port, String user, String password, String database) {
        RawSocket socket = RawSocket.connect(host, port).readTimeout(Duration.ofSeconds(60));
        try {
            socket.write(Frames.startup(Map.of("user", user, "database", database)));
            ScramClient scram = null;
            while (true) {
                BackendMessage message = socket.readMessage();
                switch (message.type()) {
                    case 'E' -> throw new IllegalStateException("login of " + user + " refused: " + message.fields());
                    case 'Z' -> {
                        return new WireSession(socket);
                    }
                    case 'R' -> {
                        Object request = decode(message);
                        if (request instanceof AuthenticationSASL offer) {
                            scram = ScramClient.start(offer, password.toCharArray(), Optional.empty(),
                                    ScramClient.ChannelBindingMode.DISABLE);
                            socket.write(Frames.encode(scram.initialResponse()));
                        } else if (request instanceof AuthenticationSASLContinue challenge && scram != null) {
                            socket.write(Frames.encode(scram.onContinue(challenge)));
                        } else if (request instanceof AuthenticationSASLFinal outcome && scram != null) {
                            scram.onFinal(outcome);
                        } else if (!(request instanceof AuthenticationOk)) {
                            throw new IllegalStateException("unexpected authentication request " + request);
                        }
                    }
                    default -> {
                        // ParameterStatus, BackendKeyData
                    }
                }
            }
        } catch (ScramException | RuntimeException e) {
            socket.close();
            throw e instanceof RuntimeException runtime ? runtime : new IllegalStateException(e);
        }
    }

    /** A simple Query; returns what came back up to its ReadyForQuery. */
    public Reply query(String sql) {
        socket.write(Frames.query(sql));
        return readReply();
    }

    /**
     * Several simple Queries in one write, as a pipelining client sends them; the replies in
     * order, each up to its ReadyForQuery.
     */
    public List<Reply> pipelined(String... sqls) {
        java.io.ByteArrayOutputStream frames = new java.io.ByteArrayOutputStream();
        for (String sql : sqls) {
            frames.writeBytes(Frames.query(sql));
        }
        socket.write(frames.toByteArray());
        List<Reply> replies = new ArrayList<>();
        for (int i = 0; i < sqls.length; i++) {
            replies.add(readReply());
        }
        return replies;
    }

    /** {@code messages} followed by a Sync, in one write; returns what came back up to the ReadyForQuery. */
    public Reply extended(WireMessage... messages) {
        WireMessage[] withSync = java.util.Arrays.copyOf(messages, messages.length + 1);
        withSync[messages.length] = Sync.INSTANCE;
        socket.write(Frames.encode(withSync));
        return readReply();
    }

    /** Bind of the named statement with text parameters into the unnamed portal, Execute, Sync. */
    public Reply bindAndExecute(String statement, String... parameters) {
        List<Optional<Bytes>> values = new ArrayList<>();
        for (String parameter : parameters) {
            values.add(parameter == null ? Optional.empty() : Optional.of(Bytes.utf8(parameter)));
        }
        return extended(new Bind("", statement, List.of(), values, List.of()), new Execute("", 0));
    }

    private Reply readReply() {
        List<BackendMessage> messages = new ArrayList<>();
        while (true) {
            BackendMessage message = socket.readMessage();
            messages.add(message);
            if (message.type() == 'Z') {
                return new Reply(messages);
            }
        }
    }

    @Override
    public void close() {
        socket.close();
    }

    private static Object decode(BackendMessage message) {
        byte[] body = message.body();
        ByteBuf frame = Unpooled.wrappedBuffer(ByteBuffer.allocate(5 + body.length)
                .put((byte) message.type()).putInt(4 + body.length).put(body).array());
        RawFrame raw = RawFrame.wrap(frame);
        try {
            return BackendMessages.decode(raw);
        } finally {
            raw.release();
        }
    }

    /** The server's messages answering one request, ReadyForQuery last. */
    public record Reply(List<BackendMessage> messages) {

        /** The SQLSTATE of the first ErrorResponse, or null when there was none. */
        public String sqlState() {
            return error().map(BackendMessage::sqlState).orElse(null);
        }

        /** The message text of the first ErrorResponse, or null. */
        public String errorMessage() {
            return error().map(e -> e.fields().get('M')).orElse(null);
        }

        public Optional<BackendMessage> error() {
            return messages.stream().filter(m -> m.type() == 'E').findFirst();
        }

        /** The CommandComplete tags, in order. */
        public List<String> tags() {
            return messages.stream().filter(m -> m.type() == 'C').map(m -> {
                byte[] body = m.body();
                return new String(body, 0, body.length - 1, StandardCharsets.UTF_8);
            }).toList();
        }

        /** The DataRows, each value as text (null for SQL NULL). */
        public List<List<String>> rows() {
            List<List<String>> rows = new ArrayList<>();
            for (BackendMessage message : messages) {
                if (message.type() != 'D') {
                    continue;
                }
                ByteBuffer body = ByteBuffer.wrap(message.body());
                int columns = body.getShort();
                List<String> row = new ArrayList<>(columns);
                for (int i = 0; i < columns; i++) {
                    int length = body.getInt();
                    if (length < 0) {
                        row.add(null);
                    } else {
                        byte[] value = new byte[length];
                        body.get(value);
                        row.add(new String(value, StandardCharsets.UTF_8));
                    }
                }
                rows.add(row);
            }
            return rows;
        }
    }
}
