package dev.pgpolicy.proxy.server;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLException;

/**
 * Builds the two TLS contexts of the proxy: the server side that clients see, and the client side
 * toward PostgreSQL. Both allow TLS 1.2 and 1.3 only, and only suites with ephemeral key exchange,
 * so a stolen proxy or server key cannot decrypt recorded sessions (forward secrecy).
 */
final class TlsContexts {

    static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");

    /** TLS 1.3 suites are all (EC)DHE; for 1.2 only ECDHE with AEAD ciphers. */
    static final List<String> FORWARD_SECRET_SUITES = List.of(
            "TLS_AES_128_GCM_SHA256",
            "TLS_AES_256_GCM_SHA384",
            "TLS_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

    private TlsContexts() {}

    static SslContext server(PrivateKey key, List<X509Certificate> chain) {
        try {
            return restrict(SslContextBuilder.forServer(key, chain.toArray(new X509Certificate[0]))).build();
        } catch (SSLException e) {
            throw new IllegalStateException("cannot build the proxy's TLS context: " + rootMessage(e), e);
        }
    }

    /**
     * The client-facing context, asking for a client certificate when {@code tls.client_ca} is set:
     * requested (the handshake goes on without one, for password users) unless
     * {@code tls.require_client_cert}. A certificate that is presented must chain to the CA and
     * be within its validity (the JDK's PKIX trust manager), or the handshake fails.
     */
    static SslContext server(PrivateKey key, List<X509Certificate> chain, ProxyConfig config) {
        if (config.clientCa().isEmpty()) {
            return server(key, chain);
        }
        Path ca = config.clientCa().get();
        requireReadable(ca, "client CA file");
        try {
            return restrict(SslContextBuilder.forServer(key, chain.toArray(new X509Certificate[0])))
                    .trustManager(ca.toFile())
                    .clientAuth(config.requireClientCertificate() ? ClientAuth.REQUIRE : ClientAuth.OPTIONAL)
                    .build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new IllegalArgumentException("cannot read client CA file " + ca + ": " + rootMessage(e), e);
        }
    }

    /** Null for {@link ProxyConfig.UpstreamTls#DISABLE}. */
    static SslContext upstream(ProxyConfig config) {
        ProxyConfig.UpstreamTls mode = config.upstreamTls();
        switch (mode) {
            case DISABLE:
                return null;
            case REQUIRE:
                // libpq's sslmode=require: encrypted, but the certificate is not checked.
                return buildClient(SslContextBuilder.forClient().trustManager(InsecureTrustManagerFactory.INSTANCE), config);
            case VERIFY_CA:
            case VERIFY_FULL:
                Path ca = config.upstreamCa().orElseThrow();
                requireReadable(ca, "upstream CA file");
                try {
                    return buildClient(SslContextBuilder.forClient().trustManager(ca.toFile()), config);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("cannot read upstream CA file " + ca + ": " + rootMessage(e), e);
                }
        }
        throw new AssertionError(mode);
    }

    private static SslContext buildClient(SslContextBuilder builder, ProxyConfig config) {
        try {
            return restrict(builder).build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new IllegalArgumentException("cannot build the upstream TLS context ("
                    + config.upstreamTls().configName() + "): " + rootMessage(e), e);
        }
    }

    private static SslContextBuilder restrict(SslContextBuilder builder) {
        return builder.sslProvider(SslProvider.JDK)
                .protocols(PROTOCOLS)
                .ciphers(FORWARD_SECRET_SUITES, SupportedCipherSuiteFilter.INSTANCE);
    }

    private static void requireReadable(Path file, String what) {
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new IllegalArgumentException(what + " " + file + " does not exist or is not readable");
        }
        try {
            if (Files.size(file) == 0) {
                throw new IllegalArgumentException(what + " " + file + " is empty");
            }
        } catch (IOException e) {
            throw new IllegalArgumentException(what + " " + file + ": " + e.getMessage(), e);
        }
    }

    static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage();
        return message == null ? root.getClass().getSimpleName() : message;
    }
}
