package dev.pgpolicy.proxy.dryrun;

import dev.pgpolicy.proxy.wire.StartupPacket;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads plaintext PostgreSQL traffic from a pcap or pcapng capture: packets, then TCP streams
 * ({@link TcpReassembler}), then the client's messages ({@link FrontendStreamDecoder}).
 *
 * <p>The client side of a connection is the side that opened it (its SYN without ACK was
 * captured); failing that, the side whose first bytes are a startup packet; failing that, the side
 * talking to one of the server ports. A connection for which none of these holds is skipped with
 * a notice.
 */
final class PcapTrafficReader {
    private final Set<Integer> serverPorts;

    PcapTrafficReader(Set<Integer> serverPorts) {
        this.serverPorts = Set.copyOf(serverPorts);
    }

    void read(Path file, TrafficSink sink) {
        String name = file.toString();
        Set<Integer> unsupportedLinkTypes = new TreeSet<>();
        TcpReassembler reassembler = new TcpReassembler(opening -> new ConnectionReader(name, opening, sink));
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            PacketCaptureReader.read(in, packet -> {
                if (!PacketDecoder.supportsLinkType(packet.linkType())) {
                    unsupportedLinkTypes.add(packet.linkType());
                    return;
                }
                PacketDecoder.decode(packet).ifPresent(reassembler::accept);
            });
        } catch (PacketCaptureReader.DamagedCaptureException e) {
            sink.problem(new InputProblem(name, e.offset(), e.getMessage() + "; the report covers the packets before it"));
        } catch (IOException e) {
            sink.problem(new InputProblem(name, -1, "cannot read: " + e.getMessage()));
        } finally {
            reassembler.finish();
        }
        if (!unsupportedLinkTypes.isEmpty()) {
            sink.problem(new InputProblem(name, -1, "packets of unsupported link type(s) " + unsupportedLinkTypes
                    + " were skipped (supported: Ethernet, Linux cooked SLL and SLL2, BSD loopback, raw IP)"));
        }
    }

    /** One TCP connection: decides which side is the client and feeds that side's bytes to the decoder. */
    private final class ConnectionReader implements TcpReassembler.Listener {
        private final String file;
        private final TcpReassembler.Opening opening;
        private final TrafficSink sink;
        private final Set<TcpReassembler.Direction> startedFromStart = new HashSet<>();
        private Endpoint client;
        private FrontendStreamDecoder decoder;
        private boolean undecided;

        ConnectionReader(String file, TcpReassembler.Opening opening, TrafficSink sink) {
            this.file = file;
            this.opening = opening;
            this.sink = sink;
            this.client = opening.initiator();
        }

        @Override
        public void start(TcpReassembler.Direction direction, boolean fromStart) {
            if (fromStart) {
                startedFromStart.add(direction);
            }
        }

        @Override
        public void data(TcpReassembler.Direction direction, byte[] bytes, int offset, int length, Instant time) {
            if (client == null) {
                client = decideClient(direction, bytes, offset, length).orElse(null);
                if (client == null) {
                    undecided = true;
                    return;
                }
            }
            if (!direction.source().equals(client)) {
                return; // server to client: results are not needed to decide statements
            }
            if (decoder == null) {
                String label = file + ": " + direction.source() + " -> " + direction.destination();
                // A capture that began just after the handshake still holds the StartupMessage.
                boolean fromStart = startedFromStart.contains(direction) || looksLikeStartupPacket(bytes, offset, length);
                decoder = new FrontendStreamDecoder(label, direction.source().address(), fromStart, sink);
            }
            decoder.data(bytes, offset, length, time);
        }

        private Optional<Endpoint> decideClient(TcpReassembler.Direction direction, byte[] bytes, int offset, int length) {
            if (looksLikeStartupPacket(bytes, offset, length)) {
                return Optional.of(direction.source());
            }
            if (serverPorts.contains(direction.destination().port()) && !serverPorts.contains(direction.source().port())) {
                return Optional.of(direction.source());
            }
            if (serverPorts.contains(direction.source().port()) && !serverPorts.contains(direction.destination().port())) {
                return Optional.of(direction.destination());
            }
            return Optional.empty();
        }

        @Override
        public void gap(TcpReassembler.Direction direction, long missing) {
            if (client != null && direction.source().equals(client) && decoder != null) {
                decoder.gap(missing);
            } else if (client != null && direction.source().equals(client)) {
                sink.problem(new InputProblem(file + ": " + direction.source() + " -> " + direction.destination(), -1,
                        missing + " bytes at the start of the client stream were not captured"));
            }
        }

        @Override
        public void end() {
            if (decoder != null) {
                decoder.end();
            } else if (undecided) {
                sink.notice(new InputProblem(file + ": " + opening.source() + " <-> " + opening.destination(), -1,
                        "skipped: cannot tell which side is the PostgreSQL client (no handshake or startup packet captured,"
                                + " and neither port is a server port; see --port)"));
            }
        }
    }

    static boolean looksLikeStartupPacket(byte[] bytes, int offset, int length) {
        if (length < 8) {
            return false;
        }
        int packetLength = readInt(bytes, offset);
        int code = readInt(bytes, offset + 4);
        return packetLength >= 8 && packetLength <= StartupPacket.MAX_LENGTH
                && ((code >>> 16) == 3 || code == StartupPacket.SSL_REQUEST_CODE
                        || code == StartupPacket.GSSENC_REQUEST_CODE
                        || code == StartupPacket.CANCEL_REQUEST_CODE);
    }

    private static int readInt(byte[] bytes, int offset) {
        return ((bytes[offset] & 0xFF) << 24) | ((bytes[offset + 1] & 0xFF) << 16) | ((bytes[offset + 2] & 0xFF) << 8)
                | (bytes[offset + 3] & 0xFF);
    }
}
