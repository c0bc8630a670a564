package dev.pgpolicy.proxy.tls;

import java.net.InetAddress;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;

/**
 * A private key with its certificate chain: the end-entity certificate first, then each issuer up
 * to, but not including, the trust anchor (the order a TLS server sends, RFC 8446 section 4.4.2).
 */
public record CertifiedKey(PrivateKey privateKey, List<X509Certificate> chain) {

    public CertifiedKey {
        Objects.requireNonNull(privateKey, "privateKey");
        chain = List.copyOf(chain);
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("a certificate chain needs at least one certificate");
        }
    }

    /**
     * A self-signed server certificate, for {@code serve} when no certificate is configured:
     * clients can pin it by the fingerprint the proxy logs, or use {@code sslmode=require}.
     */
    public static CertifiedKey selfSignedServer(
            List<String> dnsNames, List<InetAddress> ipAddresses, Validity validity, KeyAlgorithm algorithm) {
        return CertificateIssuer.selfSignedServer(dnsNames, ipAddresses, validity, algorithm);
    }

    /** Self-signed, for localhost, 127.0.0.1 and ::1, valid for a year. */
    public static CertifiedKey selfSignedLocalhost() {
        return selfSignedServer(CertificateAuthority.LOCALHOST_NAMES, CertificateAuthority.loopbackAddresses(),
                Validity.fromNow(CertificateAuthority.DEFAULT_LIFETIME), KeyAlgorithm.EC_P256);
    }

    /** Reads a PEM certificate chain and a PEM private key (PKCS#8, or the OpenSSL legacy forms). */
    public static CertifiedKey load(Path certificateFile, Path privateKeyFile) {
        List<X509Certificate> chain = Pem.readCertificates(certificateFile);
        PrivateKey key = Pem.readPrivateKey(privateKeyFile);
        if (!CertificateIssuer.keyMatches(key, chain.get(0))) {
            throw new PkiException("private key " + privateKeyFile + " does not belong to the certificate in "
                    + certificateFile + " (" + chain.get(0).getSubjectX500Principal().getName() + ")");
        }
        return new CertifiedKey(key, chain);
    }

    public X509Certificate certificate() {
        return chain.get(0);
    }

    /** SHA-256 fingerprint of the end-entity certificate, as {@code openssl x509 -fingerprint -sha256} prints it. */
    public String fingerprint() {
        return Fingerprint.sha256(certificate());
    }

    public void writeCertificateChain(Path file) {
        Pem.writeCertificates(file, chain);
    }

    /** Writes the key as unencrypted PKCS#8 PEM, readable by the owner only (0600). */
    public void writePrivateKey(Path file) {
        Pem.writePrivateKey(file, privateKey);
    }

    @Override
    public String toString() {
        // Never print key material, not even in a failed assertion.
        return "CertifiedKey[" + certificate().getSubjectX500Principal().getName() + ", " + fingerprint() + "]";
    }
}
