package dev.pgpolicy.proxy.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.security.cert.CertPath;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Chains issued by the CA, checked with the JDK's own PKIX validator (RFC 5280 path validation). */
class CertificateAuthorityTest {
    private static final String SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
    private static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";

    private final CertificateAuthority ca = CertificateAuthority.generate("test CA");

    @Test
    void serverCertificateChainsToTheCaAndNamesLoopback() throws Exception {
        CertifiedKey server = ca.issueLocalhostServer();

        validate(server.certificate(), ca.certificate(), Instant.now());
        X509Certificate certificate = server.certificate();
        assertThat(certificate.getSubjectX500Principal().getName()).isEqualTo("CN=localhost");
        assertThat(subjectAlternativeNames(certificate)).containsExactlyInAnyOrder("2:localhost", "7:127.0.0.1", "7:0:0:0:0:0:0:0:1");
        assertThat(certificate.getExtendedKeyUsage()).containsExactly(SERVER_AUTH);
        assertThat(certificate.getBasicConstraints()).isEqualTo(-1);
        assertThat(certificate.getPublicKey().getAlgorithm()).isEqualTo("EC");
        assertThat(CertificateIssuer.keyMatches(server.privateKey(), certificate)).isTrue();
    }

    @Test
    void caIsARootThatMayOnlySignEndEntities() {
        X509Certificate root = ca.certificate();
        assertThat(root.getBasicConstraints()).isZero();
        assertThat(root.getKeyUsage()[5]).as("keyCertSign").isTrue();
        assertThat(root.getSubjectX500Principal()).isEqualTo(root.getIssuerX500Principal());
    }

    @Test
    void clientCertificateCarriesTheUserAsCommonName() throws Exception {
        CertifiedKey client = ca.issueClient("ana");

        validate(client.certificate(), ca.certificate(), Instant.now());
        assertThat(client.certificate().getSubjectX500Principal().getName()).isEqualTo("CN=ana");
        assertThat(client.certificate().getExtendedKeyUsage()).containsExactly(CLIENT_AUTH);
    }

    @Test
    void expiredClientCertificateFailsValidation() {
        CertifiedKey expired = ca.issueClient("old", Validity.expired(Duration.ofDays(2)));

        assertThat(expired.certificate().getNotAfter()).isBefore(new Date());
        assertThatThrownBy(() -> validate(expired.certificate(), ca.certificate(), Instant.now()))
                .isInstanceOf(CertPathValidatorException.class)
                .satisfies(e -> assertThat(((CertPathValidatorException) e).getReason())
                        .isEqualTo(CertPathValidatorException.BasicReason.EXPIRED));
    }

    @Test
    void certificateFromAnotherCaDoesNotValidate() {
        CertifiedKey foreign = CertificateAuthority.generate("other CA").issueClient("ana");

        assertThatThrownBy(() -> validate(foreign.certificate(), ca.certificate(), Instant.now()))
                .isInstanceOf(CertPathValidatorException.class);
    }

    @Test
    void rsaAuthorityIssuesRsaAndEcCertificates() throws Exception {
        CertificateAuthority rsa = CertificateAuthority.generate("rsa CA",
                Validity.fromNow(Duration.ofDays(30)), KeyAlgorithm.RSA_2048);
        CertifiedKey ecServer = rsa.issueServer(List.of("db.example.test"), List.of(),
                Validity.fromNow(Duration.ofDays(1)));
        CertifiedKey rsaClient = rsa.issueClient("bob", Validity.fromNow(Duration.ofDays(1)), KeyAlgorithm.RSA_2048);

        validate(ecServer.certificate(), rsa.certificate(), Instant.now());
        validate(rsaClient.certificate(), rsa.certificate(), Instant.now());
        assertThat(rsa.certificate().getSigAlgName()).isEqualTo("SHA256withRSA");
        assertThat(ecServer.certificate().getSigAlgName()).isEqualTo("SHA256withRSA");
        assertThat(rsaClient.certificate().getPublicKey().getAlgorithm()).isEqualTo("RSA");
    }

    @Test
    void selfSignedServerCertificateIsItsOwnAnchor() throws Exception {
        CertifiedKey selfSigned = CertifiedKey.selfSignedLocalhost();

        X509Certificate certificate = selfSigned.certificate();
        assertThat(certificate.getIssuerX500Principal()).isEqualTo(certificate.getSubjectX500Principal());
        certificate.verify(certificate.getPublicKey());
        assertThat(subjectAlternativeNames(certificate)).contains("2:localhost", "7:127.0.0.1");
        assertThat(certificate.getExtendedKeyUsage()).containsExactly(SERVER_AUTH);
    }

    @Test
    void serialNumbersAreRandomAndPositive() {
        Set<java.math.BigInteger> serials = new java.util.HashSet<>();
        for (int i = 0; i < 20; i++) {
            java.math.BigInteger serial = ca.issueClient("u" + i).certificate().getSerialNumber();
            assertThat(serial.signum()).isPositive();
            assertThat(serial.bitLength()).isLessThanOrEqualTo(159);
            serials.add(serial);
        }
        assertThat(serials).hasSize(20);
    }

    @Test
    void serverCertificateNeedsAName() {
        assertThatThrownBy(() -> ca.issueServer(List.of(), List.of(), Validity.fromNow(Duration.ofDays(1))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at least one DNS name or IP address");
    }

    @Test
    void validityRejectsAnEmptyPeriod() {
        Instant now = Instant.now();
        assertThatThrownBy(() -> new Validity(now, now)).isInstanceOf(IllegalArgumentException.class);
        assertThat(Validity.fromNow(Duration.ofDays(1)).contains(now)).isTrue();
        assertThat(Validity.expired(Duration.ofHours(1)).contains(now)).isFalse();
    }

    @Test
    void ipOnlyServerCertificateUsesTheAddressAsCommonName() throws Exception {
        CertifiedKey server = ca.issueServer(List.of(), List.of(InetAddress.getByName("10.1.2.3")),
                Validity.fromNow(Duration.ofDays(1)));
        assertThat(server.certificate().getSubjectX500Principal().getName()).isEqualTo("CN=10.1.2.3");
    }

    static void validate(X509Certificate leaf, X509Certificate anchor, Instant at) throws Exception {
        CertPath path = CertificateFactory.getInstance("X.509").generateCertPath(List.of(leaf));
        PKIXParameters parameters = new PKIXParameters(Set.of(new TrustAnchor(anchor, null)));
        // No CRL or OCSP endpoints exist for a private test CA.
        parameters.setRevocationEnabled(false);
        parameters.setDate(Date.from(at));
        CertPathValidator.getInstance("PKIX").validate(path, parameters);
    }

    private static Set<String> subjectAlternativeNames(X509Certificate certificate) throws Exception {
        return certificate.getSubjectAlternativeNames().stream()
                .map(name -> name.get(0) + ":" + name.get(1))
                .collect(Collectors.toSet());
    }
}
