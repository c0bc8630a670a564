package dev.pgpolicy.proxy.enforce;

import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A plain TCP relay between real clients and the proxy that counts the DataRow and CopyData
 * messages the clients receive: what reached the client on the wire, whatever the client library does with it.
 * Clients must connect without TLS (sslmode=disable), so every server message is a typed frame.
 */
final class RowCountingRelay implements AutoCloseable {

    private final ServerSocket listener;
    private final int targetPort;
    private final AtomicLong dataRows = new AtomicLong();
    private final AtomicLong copyData = new AtomicLong();
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();

    RowCountingRelay(int targetPort) throws IOException {
        this.targetPort = targetPort;
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::accept, "row-counting-relay");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    int port() {
        return listener.getLocalPort();
    }

    /** DataRows forwarded to clients so far; a row is counted before the client can see it. */
    long dataRows() {
        return dataRows.get();
    }

    /** CopyData messages forwarded to clients so far (COPY TO STDOUT sends one per row). */
    long copyData() {
        return copyData.get();
    }

    private void accept() {
        while (!listener.isClosed()) {
            try {
                Socket client = listener.accept();
                Socket server = new Socket(InetAddress.getLoopbackAddress(), targetPort);
                sockets.add(client);
                sockets.add(server);
                start(() -> copy(client, server));
                start(() -> countAndCopy(server, client));
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private static void start(Runnable task) {
        Thread thread = new Thread(task, "row-counting-relay-copy");
        thread.setDaemon(true);
        thread.start();
    }

    private static void copy(Socket from, Socket to) {
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            in.transferTo(out);
        } catch (IOException e) {
            // one side went away
        } finally {
            closeQuietly(from);
            closeQuietly(to);
        }
    }

    /** Server to client: frame by frame (type byte, Int32 length including itself, body). */
    private void countAndCopy(Socket from, Socket to) {
        try (DataInputStream in = new DataInputStream(from.getInputStream()); OutputStream out = new BufferedOutputStream(to.getOutputStream())) {
            while (true) {
                int type = in.read();
                if (type < 0) {
                    return;
                }
                int length = in.readInt();
                byte[] body = new byte[length - 4];
                in.readFully(body);
                if (type == 'D') {
                    dataRows.incrementAndGet();
                } else if (type == 'd') {
                    copyData.incrementAndGet();
                }
                out.write(type);
                out.write(new byte[] {(byte) (length >>> 24), (byte) (length >>> 16), (byte) (length >>> 8), (byte) length});
                out.write(body);
                if (in.available() == 0) {
                    out.flush();
                }
            }
        } catch (EOFException e) {
            // the proxy closed the connection
        } catch (IOException e) {
            // one side went away
        } finally {
            closeQuietly(from);
            closeQuietly(to);
        }
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // already closed
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
        for (Socket socket : sockets) {
            closeQuietly(socket);
        }
    }
}
