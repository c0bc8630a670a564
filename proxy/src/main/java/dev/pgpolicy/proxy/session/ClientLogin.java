package dev.pgpolicy.proxy.session;

import dev.pgpolicy.proxy.identity.AuthMethod;
import dev.pgpolicy.proxy.identity.CertificateIdentity;
import dev.pgpolicy.proxy.identity.UserDirectory;
import dev.pgpolicy.proxy.identity.UserEntry;
import dev.pgpolicy.proxy.identity.UsersFile;
import dev.pgpolicy.proxy.scram.ChannelBinding;
import dev.pgpolicy.proxy.scram.MockVerifiers;
import dev.pgpolicy.proxy.scram.ScramServer;
import dev.pgpolicy.proxy.scram.ScramVerifier;
import dev.pgpolicy.proxy.wire.AuthenticationSASL;
import dev.pgpolicy.proxy.wire.FrontendMessages;
import dev.pgpolicy.proxy.wire.ProtocolException;
import dev.pgpolicy.proxy.wire.RawFrame;
import java.security.cert.X509Certificate;
import java.util.Optional;

/**
 * The client's side of {@code auth.mode: proxy}: the proxy is the SCRAM server (RFC 5802, RFC
 * 7677) and the users file holds the verifiers. The user entry is looked up once, at the start,
 * from one snapshot of the users file, so a reload in the middle cannot mix two versions.
 *
 * <p>Unknown users, and users who may not log in with a password alone, run the same exchange
 * against a mock verifier and fail at the proof with the same 28P01 as a wrong password: the
 * answer and the work done reveal nothing about which names exist.
 */
final class ClientLogin {

    private final UsersFile snapshot;
    private final Optional<UserEntry> entry;
    /** Null when the verified client certificate alone authenticates the user ({@code auth: cert}). */
    private final ScramServer server;

    private ClientLogin(UsersFile snapshot, Optional<UserEntry> entry, ScramServer server) {
        this.snapshot = snapshot;
        this.entry = entry;
        this.server = server;
    }

    /**
     * @param ownBinding  the tls-server-end-point binding of the proxy's certificate when the
     *                    client is on TLS; SCRAM-SHA-256-PLUS is offered only then
     * @param certificate the client certificate the TLS handshake verified against {@code tls.client_ca}
     */
    static ClientLogin start(UserDirectory users, MockVerifiers mocks, String startupUser,
                             Optional<ChannelBinding> ownBinding, Optional<X509Certificate> certificate) {
        UsersFile snapshot = users.current();
        Optional<UserEntry> found = snapshot.user(startupUser);
        boolean certificateMatches = certificate.isPresent() && found.isPresent()
                && CertificateIdentity.authenticates(certificate.get(), found.get());
        if (certificateMatches && found.get().auth() == AuthMethod.CERT) {
            return new ClientLogin(snapshot, found, null);
        }
        // A certificate user without its certificate, or a user who needs both without it, is
        // asked for a password it cannot prove: the same exchange and 28P01 as an unknown name.
        Optional<UserEntry> entry = found.filter(u -> u.auth() == AuthMethod.PASSWORD
                || (u.auth() == AuthMethod.BOTH && certificateMatches));
        Optional<ScramVerifier> verifier = entry.flatMap(UserEntry::scram);
        return new ClientLogin(snapshot, entry, ScramServer.start(startupUser, verifier, mocks, ownBinding));
    }

    /** Whether the verified client certificate alone authenticated the user: no SASL exchange. */
    boolean certificateOnly() {
        return server == null;
    }

    /** The session's {@code auth} attribute: {@code cert}, {@code cert+scram} or {@code scram}. */
    String method() {
        if (server == null) {
            return "cert";
        }
        return user().auth() == AuthMethod.BOTH ? "cert+scram" : "scram";
    }

    AuthenticationSASL offer() {
        if (server == null) {
            throw new IllegalStateException("a certificate login has no SASL exchange");
        }
        return server.offer();
    }

    /** Whether the exchange has ended, either way; a client answer after that is a protocol violation. */
    boolean finished() {
        return server == null || server.stage() == ScramServer.Stage.SUCCEEDED || server.stage() == ScramServer.Stage.FAILED;
    }

    boolean channelBound() {
        return server != null && server.channelBound();
    }

    ScramServer.Outcome onClient(RawFrame answer) {
        if (server == null) {
            throw new ProtocolException("unexpected authentication response: the certificate already authenticated");
        }
        switch (server.stage()) {
            case AWAITING_INITIAL_RESPONSE:
                return server.onInitialResponse(FrontendMessages.decodeSaslInitialResponse(answer));
            case AWAITING_CLIENT_FIRST:
            case AWAITING_CLIENT_FINAL:
                return server.onResponse(FrontendMessages.decodeSaslResponse(answer));
            case SUCCEEDED:
            case FAILED:
                throw new ProtocolException("unexpected authentication response after the SASL exchange ended");
        }
        throw new AssertionError(server.stage());
    }

    /** The authenticated user; only after a {@link ScramServer.Success} or for a certificate login. */
    UserEntry user() {
        if ((server != null && server.stage() != ScramServer.Stage.SUCCEEDED) || entry.isEmpty()) {
            throw new IllegalStateException("the client has not authenticated");
        }
        return entry.get();
    }

    /** The users file the user was authenticated against, for its service account. */
    UsersFile snapshot() {
        return snapshot;
    }
}
