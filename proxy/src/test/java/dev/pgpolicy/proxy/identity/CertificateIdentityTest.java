package dev.pgpolicy.proxy.identity;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpolicy.proxy.scram.ScramVerifier;
import dev.pgpolicy.proxy.tls.CertificateAuthority;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;

class CertificateIdentityTest {
    private static final ScramVerifier VERIFIER = ScramVerifier.generate("pw".toCharArray(), 4096, new SecureRandom());

    private static UserEntry user(String name, AuthMethod auth, Optional<String> certCn) {
        return new UserEntry(name, auth.needsPassword() ? Optional.of(VERIFIER) : Optional.empty(), List.of(), "acct",
                auth, certCn);
    }

    @Test
    void commonNameOfAnIssuedClientCertificateAuthenticatesItsUser() {
        X509Certificate ana = CertificateAuthority.generate("clients CA").issueClient("ana").certificate();
        assertThat(CertificateIdentity.commonName(ana)).contains("ana");
        assertThat(CertificateIdentity.authenticates(ana, user("ana", AuthMethod.CERT, Optional.empty()))).isTrue();
        assertThat(CertificateIdentity.authenticates(ana, user("ana", AuthMethod.BOTH, Optional.empty()))).isTrue();
        // Password-only users are never authenticated by a certificate.
        assertThat(CertificateIdentity.authenticates(ana, user("ana", AuthMethod.PASSWORD, Optional.empty()))).isFalse();
        assertThat(CertificateIdentity.authenticates(ana, user("bob", AuthMethod.CERT, Optional.empty()))).isFalse();
        assertThat(CertificateIdentity.authenticates(ana, user("analyst", AuthMethod.CERT, Optional.of("ana")))).isTrue();
    }

    @Test
    void alternativeNamesCountAndTwoCommonNamesCountForNothing() throws Exception {
        X509Certificate withSan = certificate("CN=svc-17,O=Example", new GeneralNames(new GeneralName[] {
            new GeneralName(GeneralName.dNSName, "etl.example.org"),
            new GeneralName(GeneralName.rfc822Name, "etl@example.org"),
            new GeneralName(GeneralName.iPAddress, "10.0.0.1")}));
        assertThat(CertificateIdentity.alternativeNames(withSan)).containsExactly("etl.example.org", "etl@example.org");
        assertThat(CertificateIdentity.authenticates(withSan, user("etl", AuthMethod.CERT, Optional.of("etl.example.org"))))
                .isTrue();

        X509Certificate twoNames = certificate("CN=ana,CN=bob", null);
        assertThat(CertificateIdentity.commonName(twoNames)).isEmpty();
        assertThat(CertificateIdentity.authenticates(twoNames, user("ana", AuthMethod.CERT, Optional.empty()))).isFalse();
        assertThat(CertificateIdentity.commonName(certificate("O=No Common Name", null))).isEmpty();
    }

    private static X509Certificate certificate(String subject, GeneralNames alternativeNames) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(256);
        KeyPair keys = generator.generateKeyPair();
        Instant now = Instant.now();
        JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(new X500Name("CN=issuer"), BigInteger.TEN,
                Date.from(now.minus(1, ChronoUnit.HOURS)), Date.from(now.plus(1, ChronoUnit.DAYS)), new X500Name(subject),
                keys.getPublic());
        if (alternativeNames != null) {
            builder.addExtension(Extension.subjectAlternativeName, false, alternativeNames);
        }
        return new JcaX509CertificateConverter().getCertificate(
                builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())));
    }
}
