package dev.pgpolicy.proxy.testing;

import dev.pgpolicy.proxy.tls.Pem;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * A plain TCP connection for byte-level protocol tests: write exact bytes (see {@link Frames}),
 * read exact bytes or whole typed messages, upgrade to TLS after an SSLRequest was answered 'S',
 * and observe the peer closing. Every read has a timeout so a silent peer fails the test instead
 * of hanging it.
 */
public final class RawSocket implements AutoCloseable {
    private static final Duration DEFAULT_READ_TIMEOUT = Duration.ofSeconds(10);
    /* Large enough for any message a test expects; a larger length word means framing is broken. */
    private static final int MAX_MESSAGE_LENGTH = 64 * 1024 * 1024;

    private final String host;
    private final int port;
    private Socket socket;
    private DataInputStream in;
    private OutputStream out;

    private RawSocket(String host, int port, Socket socket) throws IOException {
        this.host = host;
        this.port = port;
        attach(socket);
    }

    public static RawSocket connect(String host, int port) {
        try {
            Socket socket = new Socket();
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress(host, port), (int) DEFAULT_READ_TIMEOUT.toMillis());
            socket.setSoTimeout((int) DEFAULT_READ_TIMEOUT.toMillis());
            return new RawSocket(host, port, socket);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot connect to " + host + ":" + port, e);
        }
    }

    public RawSocket readTimeout(Duration timeout) {
        try {
            socket.setSoTimeout((int) timeout.toMillis());
        } catch (SocketException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    public RawSocket write(byte[] bytes) {
        try {
            out.write(bytes);
            out.flush();
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException("write to " + host + ":" + port + " failed", e);
        }
    }

    /** One byte at a time with a flush after each: the peer's decoder sees every possible split. */
    public RawSocket writeBytewise(byte[] bytes) {
        for (byte b : bytes) {
            write(new byte[] {b});
        }
        return this;
    }

    /** The next byte, or -1 when the peer closed the connection. */
    public int readByte() {
        try {
            return in.read();
        } catch (IOException e) {
            throw new UncheckedIOException("read from " + host + ":" + port + " failed", e);
        }
    }

    public byte[] readExactly(int length) {
        byte[] bytes = new byte[length];
        try {
            in.readFully(bytes);
            return bytes;
        } catch (IOException e) {
            throw new UncheckedIOException("expected " + length + " bytes from " + host + ":" + port, e);
        }
    }

    /** Byte1 type, Int32 length (self-inclusive), body. */
    public BackendMessage readMessage() {
        try {
            int type = in.read();
            if (type < 0) {
                throw new EOFException("connection closed before a message");
            }
            int length = in.readInt();
            if (length < 4 || length > MAX_MESSAGE_LENGTH) {
                throw new IOException("message '" + (char) type + "' has an impossible length " + length);
            }
            byte[] body = new byte[length - 4];
            in.readFully(body);
            return new BackendMessage((char) type, body);
        } catch (IOException e) {
            throw new UncheckedIOException("reading a message from " + host + ":" + port + " failed", e);
        }
    }

    /** Reads messages until one of the given type arrives, and returns it. */
    public BackendMessage readUntil(char type) {
        while (true) {
            BackendMessage message = readMessage();
            if (message.type() == type) {
                return message;
            }
        }
    }

    /**
     * True when the peer closes the connection (EOF or reset) within the timeout, after discarding
     * whatever it still sends; false when it keeps the connection open.
     */
    public boolean awaitClosed(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            while (System.nanoTime() < deadline) {
                socket.setSoTimeout((int) Math.max(1, Duration.ofNanos(deadline - System.nanoTime()).toMillis()));
                try {
                    if (in.read() < 0) {
                        return true;
                    }
                } catch (SocketTimeoutException e) {
                    return false;
                } catch (SocketException e) {
                    return true;
                }
            }
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    /**
     * Performs the TLS handshake on this connection (after the peer answered an SSLRequest with
     * 'S'), trusting only {@code caFile} and checking that the certificate names {@code serverName}
     * (RFC 6125), as libpq's verify-full does.
     */
    public RawSocket startTls(Path caFile, String serverName) {
        try {
            SSLContext context = trusting(Pem.readCertificate(caFile));
            SSLSocket tls = (SSLSocket) context.getSocketFactory().createSocket(socket, serverName, port, true);
            SSLParameters parameters = tls.getSSLParameters();
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
            tls.setSSLParameters(parameters);
            tls.setUseClientMode(true);
            tls.startHandshake();
            attach(tls);
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException("TLS handshake with " + host + ":" + port + " failed", e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot build a TLS context trusting " + caFile, e);
        }
    }

    public Socket socket() {
        return socket;
    }

    public boolean isTls() {
        return socket instanceof SSLSocket;
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void attach(Socket connected) throws IOException {
        this.socket = connected;
        InputStream raw = connected.getInputStream();
        this.in = new DataInputStream(raw);
        this.out = connected.getOutputStream();
    }

    private static SSLContext trusting(X509Certificate ca) throws GeneralSecurityException, IOException {
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        trust.setCertificateEntry("ca", ca);
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, factory.getTrustManagers(), null);
        return context;
    }
}
