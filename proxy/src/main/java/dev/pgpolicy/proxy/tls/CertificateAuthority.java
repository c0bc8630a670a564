package dev.pgpolicy.proxy.tls;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import org.bouncycastle.asn1.x500.X500Name;

/**
 * A root certificate authority that issues server and client certificates: the embedded
 * PostgreSQL's server certificate (so clients can use {@code sslmode=verify-full}), the proxy's,
 * and client certificates whose CN is the database user (PostgreSQL's {@code cert} authentication
 * maps the CN to the user name).
 */
public final class CertificateAuthority {

    public static final List<String> LOCALHOST_NAMES = List.of("localhost");
    public static final Duration DEFAULT_LIFETIME = Duration.ofDays(365);

    private static final SecureRandom RANDOM = new SecureRandom();

    private final CertifiedKey identity;
    private final X500Name subject;

    private CertificateAuthority(CertifiedKey identity) {
        this.identity = identity;
        this.subject = X500Name.getInstance(identity.certificate().getSubjectX500Principal().getEncoded());
    }

    public static CertificateAuthority generate(String commonName) {
        return generate(commonName, Validity.fromNow(Duration.ofDays(3650)), KeyAlgorithm.EC_P256);
    }

    public static CertificateAuthority generate(String commonName, Validity validity, KeyAlgorithm algorithm) {
        KeyPair keyPair = algorithm.generateKeyPair(RANDOM);
        X500Name name = CertificateIssuer.commonName(commonName);
        X509Certificate certificate = CertificateIssuer.sign(CertificateIssuer.Profile.CERTIFICATE_AUTHORITY,
                name, keyPair.getPublic(), validity, List.of(), List.of(), name, null, keyPair.getPrivate());
        return new CertificateAuthority(new CertifiedKey(keyPair.getPrivate(), List.of(certificate)));
    }

    /** Loads a CA written earlier with {@link #writeCertificate} and {@link #writePrivateKey}. */
    public static CertificateAuthority load(Path certificateFile, Path privateKeyFile) {
        CertifiedKey loaded = CertifiedKey.load(certificateFile, privateKeyFile);
        if (loaded.certificate().getBasicConstraints() < 0) {
            throw new PkiException(certificateFile + " is not a CA certificate (basicConstraints CA:FALSE)");
        }
        return new CertificateAuthority(loaded);
    }

    /** 127.0.0.1 and ::1; literals, so no name lookup happens. */
    public static List<InetAddress> loopbackAddresses() {
        try {
            return List.of(InetAddress.getByName("127.0.0.1"), InetAddress.getByName("::1"));
        } catch (UnknownHostException e) {
            throw new AssertionError("IP literals never need a lookup", e);
        }
    }

    public X509Certificate certificate() {
        return identity.certificate();
    }

    public String fingerprint() {
        return identity.fingerprint();
    }

    public CertifiedKey issueServer(List<String> dnsNames, List<InetAddress> ipAddresses, Validity validity,
            KeyAlgorithm algorithm) {
        KeyPair keyPair = algorithm.generateKeyPair(RANDOM);
        X500Name name = CertificateIssuer.commonName(CertificateIssuer.serverCommonName(dnsNames, ipAddresses));
        X509Certificate certificate = CertificateIssuer.sign(CertificateIssuer.Profile.SERVER, name,
                keyPair.getPublic(), validity, List.copyOf(dnsNames), List.copyOf(ipAddresses),
                subject, identity.certificate(), identity.privateKey());
        return new CertifiedKey(keyPair.getPrivate(), List.of(certificate));
    }

    public CertifiedKey issueServer(List<String> dnsNames, List<InetAddress> ipAddresses, Validity validity) {
        return issueServer(dnsNames, ipAddresses, validity, KeyAlgorithm.EC_P256);
    }

    /** For localhost, 127.0.0.1 and ::1, valid for a year: what a loopback test server needs for verify-full. */
    public CertifiedKey issueLocalhostServer() {
        return issueServer(LOCALHOST_NAMES, loopbackAddresses(), Validity.fromNow(DEFAULT_LIFETIME));
    }

    public CertifiedKey issueClient(String user, Validity validity, KeyAlgorithm algorithm) {
        Objects.requireNonNull(user, "user");
        KeyPair keyPair = algorithm.generateKeyPair(RANDOM);
        X509Certificate certificate = CertificateIssuer.sign(CertificateIssuer.Profile.CLIENT,
                CertificateIssuer.commonName(user), keyPair.getPublic(), validity, List.of(), List.of(),
                subject, identity.certificate(), identity.privateKey());
        return new CertifiedKey(keyPair.getPrivate(), List.of(certificate));
    }

    public CertifiedKey issueClient(String user, Validity validity) {
        return issueClient(user, validity, KeyAlgorithm.EC_P256);
    }

    public CertifiedKey issueClient(String user) {
        return issueClient(user, Validity.fromNow(DEFAULT_LIFETIME));
    }

    public void writeCertificate(Path file) {
        identity.writeCertificateChain(file);
    }

    /** The CA's signing key, PKCS#8 PEM, owner-only (0600). */
    public void writePrivateKey(Path file) {
        identity.writePrivateKey(file);
    }

    @Override
    public String toString() {
        return "CertificateAuthority[" + subject + ", " + fingerprint() + "]";
    }
}
