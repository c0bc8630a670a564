package dev.pgpolicy.proxy.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The TCP sockets this JVM holds open towards a port, read from Linux's /proc (proc(5),
 * "/proc/net/tcp"): a socket counts while a file descriptor of this process refers to it, so a
 * connection the proxy forgot to close shows up here even after the server has hung up on it
 * (state CLOSE_WAIT), while a closed one (TIME_WAIT, no descriptor) does not.
 */
public final class OpenSockets {

    /** proc(5): "st" column values, from include/net/tcp_states.h. */
    private static final String[] STATES = {"?", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
            "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV"};

    private OpenSockets() {
    }

    /** One line per socket of this process connected to 127.0.0.1:{@code port}, with its TCP state. */
    public static List<String> towards(int port) {
        Set<String> ownInodes = ownSocketInodes();
        List<String> found = new ArrayList<>();
        for (String table : List.of("/proc/self/net/tcp", "/proc/self/net/tcp6")) {
            Path file = Path.of(table);
            if (!Files.exists(file)) {
                continue;
            }
            List<String> lines;
            try {
                lines = Files.readAllLines(file);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + file, e);
            }
            // Columns: sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
            for (String line : lines.subList(1, lines.size())) {
                String[] columns = line.strip().split("\\s+");
                String remote = columns[2];
                int remotePort = Integer.parseInt(remote.substring(remote.indexOf(':') + 1), 16);
                if (remotePort == port && ownInodes.contains(columns[9])) {
                    int state = Integer.parseInt(columns[3], 16);
                    found.add(columns[1] + " -> " + remote + " " + (state < STATES.length ? STATES[state] : columns[3]));
                }
            }
        }
        return found;
    }

    private static Set<String> ownSocketInodes() {
        Set<String> inodes = new HashSet<>();
        try (DirectoryStream<Path> descriptors = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path descriptor : descriptors) {
                String target;
                try {
                    target = Files.readSymbolicLink(descriptor).toString();
                } catch (IOException closedMeanwhile) {
                    continue;
                }
                if (target.startsWith("socket:[")) {
                    inodes.add(target.substring("socket:[".length(), target.length() - 1));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list /proc/self/fd", e);
        }
        return inodes;
    }
}
