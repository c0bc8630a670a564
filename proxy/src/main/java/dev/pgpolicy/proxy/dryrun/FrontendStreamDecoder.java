package dev.pgpolicy.proxy.dryrun;

import dev.pgpolicy.proxy.wire.Bind;
import dev.pgpolicy.proxy.wire.CancelRequest;
import dev.pgpolicy.proxy.wire.Close;
import dev.pgpolicy.proxy.wire.CopyData;
import dev.pgpolicy.proxy.wire.Execute;
import dev.pgpolicy.proxy.wire.FrameDecoder;
import dev.pgpolicy.proxy.wire.FrontendMessage;
import dev.pgpolicy.proxy.wire.FrontendMessages;
import dev.pgpolicy.proxy.wire.GSSENCRequest;
import dev.pgpolicy.proxy.wire.Parse;
import dev.pgpolicy.proxy.wire.ProtocolException;
import dev.pgpolicy.proxy.wire.Query;
import dev.pgpolicy.proxy.wire.RawFrame;
import dev.pgpolicy.proxy.wire.SSLRequest;
import dev.pgpolicy.proxy.wire.StartupDecoder;
import dev.pgpolicy.proxy.wire.StartupMessage;
import dev.pgpolicy.proxy.wire.StartupPacket;
import dev.pgpolicy.proxy.wire.TargetKind;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import java.net.InetAddress;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Reads what a client sent on one connection, from the reassembled client-to-server byte stream,
 * with the wire codec: startup packets through {@link StartupDecoder}, then typed frames through
 * {@link FrameDecoder} and {@link FrontendMessages}. It reports every SQL text the server was
 * asked to run:
 * <ul>
 * <li>each simple Query message;</li>
 * <li>each first Execute of a portal, with the text of the statement the portal was bound to
 *     (Parse names the statement, Bind the portal), so pgbench {@code -M extended} and
 *     {@code -M prepared} count every execution; an Execute that continues a suspended portal
 *     (row limit) is the same execution and is not counted again.</li>
 * </ul>
 *
 * <p>A stream that joined mid-connection (its start, and so the StartupMessage, not captured) or
 * that has a gap is read again from the next point where frames can be trusted: a frontend type
 * byte with a plausible length, whose frame decodes strictly and is followed by another plausible
 * header. Bytes before that point are skipped, never guessed at. Statements of a session whose
 * StartupMessage was not seen belong to an unknown user.
 *
 * <p>Password and SASL messages are skipped without being decoded: a dry-run never holds a
 * credential.
 */
final class FrontendStreamDecoder {
    /** Longest frame accepted while resynchronising: a false candidate must not make us wait for a gigabyte. */
    private static final int MAX_RESYNC_FRAME = 16 * 1024 * 1024;
    private static final int TLS_HANDSHAKE_RECORD = 0x16;
    private static final String FRONTEND_TYPES = "QPBEDCSHXFdcf";
    private static final String EMPTY_FRAME_TYPES = "SHXc";

    private enum State { STARTUP, FRAMES, RESYNC, IGNORED }

    private final String label;
    private final InetAddress clientIp;
    private final TrafficSink sink;
    private State state;
    private boolean afterEncryptionRequest;
    private CapturedSession session;
    private final Map<String, String> statements = new HashMap<>();
    private final Map<String, Portal> portals = new HashMap<>();
    private EmbeddedChannel frames;
    private long unknownStatementExecutions;

    private byte[] buffer = new byte[8192];
    private int readIndex;
    private int writeIndex;
    /** Stream offset of {@code buffer[readIndex]}, counting bytes lost in gaps, for messages. */
    private long streamOffset;
    private long skippedForResync;
    private Instant lastTime = Instant.EPOCH;

    private static final class Portal {
        final String sql;
        boolean executed;

        Portal(String sql) {
            this.sql = sql;
        }
    }

    FrontendStreamDecoder(String label, InetAddress clientIp, boolean fromStart, TrafficSink sink) {
        this.label = label;
        this.clientIp = clientIp;
        this.sink = sink;
        this.session = CapturedSession.unknown(clientIp);
        this.state = fromStart ? State.STARTUP : State.RESYNC;
        if (!fromStart) {
            sink.notice(new InputProblem(label, -1, "the capture starts after this connection's start-up: its statements"
                    + " are attributed to an unknown user"));
        }
    }

    void data(byte[] bytes, int offset, int length, Instant time) {
        if (state == State.IGNORED) {
            streamOffset += length;
            return;
        }
        lastTime = time;
        append(bytes, offset, length);
        process(false);
    }

    void gap(long missing) {
        if (state == State.IGNORED) {
            return;
        }
        process(true);
        long at = streamOffset + (writeIndex - readIndex);
        sink.problem(new InputProblem(label, -1, (missing > 0 ? missing + " bytes" : "bytes") + " of the client stream after stream offset "
                + at + " were not captured; reading resumes at the next message boundary that can be trusted"));
        streamOffset = at + Math.max(missing, 0);
        readIndex = 0;
        writeIndex = 0;
        // A frame cut by the gap may have been a Parse or Bind: portals bound before stay valid,
        // but a startup packet cut in half can no longer be read.
        state = State.RESYNC;
    }

    void end() {
        if (state != State.IGNORED) {
            process(true);
            int left = writeIndex - readIndex;
            if (left > 0 && state != State.IGNORED) {
                sink.problem(new InputProblem(label, -1, "the client stream ends inside a message (" + left
                        + " bytes at stream offset " + streamOffset + " not read)"));
            }
        }
        if (unknownStatementExecutions > 0) {
            sink.notice(new InputProblem(label, -1, unknownStatementExecutions + " execution(s) of statements prepared before"
                    + " the capture started could not be read (their Parse was not captured)"));
        }
        if (frames != null) {
            frames.finishAndReleaseAll();
            frames = null;
        }
        state = State.IGNORED;
    }

    private void append(byte[] bytes, int offset, int length) {
        if (buffer.length - writeIndex < length) {
            int live = writeIndex - readIndex;
            byte[] target = live + length <= buffer.length / 2 ? buffer : new byte[Math.max(buffer.length * 2, live + length)];
            System.arraycopy(buffer, readIndex, target, 0, live);
            buffer = target;
            readIndex = 0;
            writeIndex = live;
        }
        System.arraycopy(bytes, offset, buffer, writeIndex, length);
        writeIndex += length;
    }

    private int available() {
        return writeIndex - readIndex;
    }

    private void consume(int n) {
        readIndex += n;
        streamOffset += n;
        if (readIndex == writeIndex) {
            readIndex = 0;
            writeIndex = 0;
        }
    }

    private int intAt(int index) {
        return ((buffer[index] & 0xFF) << 24) | ((buffer[index + 1] & 0xFF) << 16) | ((buffer[index + 2] & 0xFF) << 8)
                | (buffer[index + 3] & 0xFF);
    }

    /** Decodes everything that is complete; {@code ending} is true when no more bytes will follow. */
    private void process(boolean ending) {
        boolean progress = true;
        while (progress && state != State.IGNORED) {
            switch (state) {
                case STARTUP:
                    progress = startupPacket();
                    break;
                case FRAMES:
                    progress = frame();
                    break;
                case RESYNC:
                    progress = resync(ending);
                    break;
                case IGNORED:
                    progress = false;
                    break;
                default:
                    throw new AssertionError(state);
            }
        }
    }

    private static boolean plausibleStartup(int length, int code) {
        return length >= 8 && length <= StartupPacket.MAX_LENGTH
                && ((code >>> 16) == 3 || code == StartupPacket.SSL_REQUEST_CODE
                        || code == StartupPacket.GSSENC_REQUEST_CODE || code == StartupPacket.CANCEL_REQUEST_CODE);
    }

    private boolean startupPacket() {
        if (available() < 8) {
            if (afterEncryptionRequest && available() > 0 && (buffer[readIndex] & 0xFF) == TLS_HANDSHAKE_RECORD) {
                return encrypted();
            }
            return false;
        }
        int length = intAt(readIndex);
        int code = intAt(readIndex + 4);
        if (!plausibleStartup(length, code)) {
            if (afterEncryptionRequest || (buffer[readIndex] & 0xFF) == TLS_HANDSHAKE_RECORD) {
                return encrypted();
            }
            sink.problem(new InputProblem(label, -1, "stream offset " + streamOffset
                    + ": the connection does not start with a PostgreSQL startup packet"));
            state = State.RESYNC;
            return true;
        }
        if (available() < length) {
            return false;
        }
        StartupPacket packet;
        EmbeddedChannel channel = new EmbeddedChannel(new StartupDecoder());
        try {
            channel.writeInbound(Unpooled.copiedBuffer(buffer, readIndex, length));
            packet = channel.readInbound();
        } catch (RuntimeException e) {
            protocolError(e);
            state = State.RESYNC;
            return true;
        } finally {
            channel.finishAndReleaseAll();
        }
        consume(length);
        afterEncryptionRequest = false;
        if (packet instanceof SSLRequest || packet instanceof GSSENCRequest) {
            // The server's one-byte answer is on the other direction; what the client sends next
            // tells it too: another startup packet after 'N', a TLS or GSSAPI handshake after 'S'/'G'.
            afterEncryptionRequest = true;
        } else if (packet instanceof CancelRequest) {
            state = State.IGNORED;
        } else if (packet instanceof StartupMessage startup) {
            String user = startup.parameter("user").orElse("");
            session = CapturedSession.of(Optional.of(user), startup.parameter("database").orElse(user),
                    startup.parameter("application_name").orElse(""), clientIp);
            state = State.FRAMES;
        } else if (packet == null) {
            throw new AssertionError("startup decoder gave nothing for a complete packet");
        } else {
            throw new AssertionError("unhandled startup packet " + packet.getClass());
        }
        return true;
    }

    private boolean encrypted() {
        sink.notice(new InputProblem(label, -1, "the connection is encrypted (TLS or GSSAPI): its statements cannot be"
                + " read; capture clients that connect with sslmode=disable, or use the server log or pgpolicy's audit log"));
        state = State.IGNORED;
        readIndex = 0;
        writeIndex = 0;
        return false;
    }

    private boolean frame() {
        if (available() < RawFrame.HEADER_LENGTH) {
            return false;
        }
        char type = (char) (buffer[readIndex] & 0xFF);
        int length = intAt(readIndex + 1);
        if ((type != 'p' && FRONTEND_TYPES.indexOf(type) < 0) || length < 4 || length > FrameDecoder.DEFAULT_MAX_FRAME_LENGTH) {
            sink.problem(new InputProblem(label, -1, "stream offset " + streamOffset + ": not a frontend message (type byte 0x"
                    + Integer.toHexString(type) + ", length " + length + "); skipping to the next message that can be trusted"));
            state = State.RESYNC;
            return true;
        }
        if (available() - 1 < length) {
            return false;
        }
        if (type == 'p') {
            consume(1 + length); // password, SASL or GSSAPI response: never decoded, never kept
            return true;
        }
        if (frames == null) {
            frames = new EmbeddedChannel(new FrameDecoder());
        }
        RawFrame raw = null;
        try {
            frames.writeInbound(Unpooled.copiedBuffer(buffer, readIndex, 1 + length));
            raw = frames.readInbound();
            FrontendMessage message = FrontendMessages.decode(raw);
            try {
                handle(message);
            } finally {
                ReferenceCountUtil.release(message instanceof CopyData ? message : null);
            }
        } catch (RuntimeException e) {
            protocolError(e);
            frames.finishAndReleaseAll();
            frames = null;
            consume(1);
            state = State.RESYNC;
            return true;
        } finally {
            ReferenceCountUtil.release(raw);
        }
        consume(1 + length);
        return true;
    }

    private void protocolError(RuntimeException e) {
        String message = ProtocolException.find(e).map(Throwable::getMessage).orElse(String.valueOf(e.getMessage()));
        sink.problem(new InputProblem(label, -1, "stream offset " + streamOffset + ": malformed message: " + message));
    }

    private void handle(FrontendMessage message) {
        if (message instanceof Query query) {
            // A simple Query destroys the unnamed statement and portal ("Multiple Statements in a Simple Query").
            statements.remove("");
            portals.remove("");
            if (!query.sql().isBlank()) {
                sink.statement(new CapturedStatement(session, query.sql(), lastTime));
            }
        } else if (message instanceof Parse parse) {
            statements.put(parse.statementName(), parse.sql());
        } else if (message instanceof Bind bind) {
            String sql = statements.get(bind.statementName());
            if (sql == null) {
                portals.remove(bind.portalName());
                unknownStatementExecutions++;
            } else {
                portals.put(bind.portalName(), new Portal(sql));
            }
        } else if (message instanceof Execute execute) {
            Portal portal = portals.get(execute.portalName());
            if (portal != null && !portal.executed) {
                portal.executed = true;
                if (!portal.sql.isBlank()) {
                    sink.statement(new CapturedStatement(session, portal.sql, lastTime));
                }
            }
        } else if (message instanceof Close close) {
            if (close.kind() == TargetKind.STATEMENT) {
                statements.remove(close.name());
            } else {
                portals.remove(close.name());
            }
        }
        // Describe, Sync, Flush, Terminate, COPY data and FunctionCall carry no SQL text to decide.
    }

    /**
     * Looks for the next offset where a frame can be trusted: a frontend type byte, a plausible
     * length, a body that decodes strictly, and a plausible header right after it (or the end of
     * the stream). Returns true when it found one or skipped bytes.
     */
    private boolean resync(boolean ending) {
        int start = readIndex;
        for (int i = readIndex; i + RawFrame.HEADER_LENGTH <= writeIndex; i++) {
            char type = (char) (buffer[i] & 0xFF);
            if (FRONTEND_TYPES.indexOf(type) < 0) {
                continue;
            }
            int length = intAt(i + 1);
            if (length < 4 || length > MAX_RESYNC_FRAME || (EMPTY_FRAME_TYPES.indexOf(type) >= 0 && length != 4)) {
                continue;
            }
            int next = i + 1 + length;
            if (next > writeIndex) {
                if (ending) {
                    continue;
                }
                skip(i - start); // not enough bytes yet to verify this candidate: keep it and wait
                return false;
            }
            if (!decodes(i, length)) {
                continue;
            }
            if (next + RawFrame.HEADER_LENGTH <= writeIndex) {
                char nextType = (char) (buffer[next] & 0xFF);
                int nextLength = intAt(next + 1);
                if ((FRONTEND_TYPES.indexOf(nextType) < 0 && nextType != 'p') || nextLength < 4
                        || nextLength > FrameDecoder.DEFAULT_MAX_FRAME_LENGTH) {
                    continue;
                }
            } else if (!ending) {
                skip(i - start);
                return false;
            }
            skip(i - start);
            if (skippedForResync > 0) {
                sink.notice(new InputProblem(label, -1, "resynchronised at stream offset " + streamOffset + " after skipping "
                        + skippedForResync + " bytes"));
            }
            skippedForResync = 0;
            state = State.FRAMES;
            return true;
        }
        if (ending) {
            skip(available());
            return false;
        }
        // Keep the last bytes: a header may straddle the next arrival.
        int keep = Math.min(available(), RawFrame.HEADER_LENGTH - 1);
        skip(available() - keep);
        return false;
    }

    private void skip(int n) {
        if (n > 0) {
            skippedForResync += n;
            consume(n);
        }
    }

    private boolean decodes(int index, int length) {
        RawFrame candidate = null;
        Object message = null;
        try {
            candidate = RawFrame.wrap(Unpooled.wrappedBuffer(Arrays.copyOfRange(buffer, index, index + 1 + length)));
            message = FrontendMessages.decode(candidate);
            return true;
        } catch (RuntimeException e) {
            return false;
        } finally {
            ReferenceCountUtil.release(message instanceof CopyData ? message : null);
            ReferenceCountUtil.release(candidate);
        }
    }
}
