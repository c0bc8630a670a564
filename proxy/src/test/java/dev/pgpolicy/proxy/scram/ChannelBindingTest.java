package dev.pgpolicy.proxy.scram;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;

/** RFC 5929 section 4.1: which hash tls-server-end-point uses for which certificate. */
class ChannelBindingTest {

    @Test
    void sha256WithRsaHashesWithSha256() throws Exception {
        X509Certificate cert = certificate("RSA", "SHA256withRSA");
        assertThat(ChannelBinding.tlsServerEndPoint(cert).orElseThrow().data())
                .isEqualTo(MessageDigest.getInstance("SHA-256").digest(cert.getEncoded()));
    }

    @Test
    void sha1AndMd5AreReplacedBySha256() throws Exception {
        X509Certificate cert = certificate("RSA", "SHA1withRSA");
        assertThat(ChannelBinding.tlsServerEndPoint(cert).orElseThrow().data())
                .isEqualTo(MessageDigest.getInstance("SHA-256").digest(cert.getEncoded()));
    }

    @Test
    void strongerHashesAreKept() throws Exception {
        X509Certificate ecdsa384 = certificate("EC", "SHA384withECDSA");
        assertThat(ChannelBinding.tlsServerEndPoint(ecdsa384).orElseThrow().data())
                .isEqualTo(MessageDigest.getInstance("SHA-384").digest(ecdsa384.getEncoded()));
        X509Certificate rsa512 = certificate("RSA", "SHA512withRSA");
        assertThat(ChannelBinding.tlsServerEndPoint(rsa512).orElseThrow().data()).hasSize(64);
        X509Certificate pss = certificate("RSA", "SHA384withRSAandMGF1");
        assertThat(ChannelBinding.tlsServerEndPoint(pss).orElseThrow().data())
                .isEqualTo(MessageDigest.getInstance("SHA-384").digest(pss.getEncoded()));
    }

    @Test
    void ed25519HasNoDefinedBinding() throws Exception {
        assertThat(ChannelBinding.tlsServerEndPoint(certificate("Ed25519", "Ed25519"))).isEmpty();
    }

    /** One key pair per algorithm: RSA key generation is slow and the keys do not matter here. */
    private static final Map<String, KeyPair> KEYS = new ConcurrentHashMap<>();

    private static KeyPair generate(String algorithm) {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance(algorithm);
            if (algorithm.equals("RSA")) {
                generator.initialize(2048);
            }
            return generator.generateKeyPair();
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    static X509Certificate certificate(String keyAlgorithm, String signatureAlgorithm) throws Exception {
        KeyPair keys = KEYS.computeIfAbsent(keyAlgorithm, ChannelBindingTest::generate);
        X500Name name = new X500Name("CN=localhost");
        Instant now = Instant.now();
        JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name, BigInteger.ONE,
                Date.from(now.minus(1, ChronoUnit.DAYS)), Date.from(now.plus(1, ChronoUnit.DAYS)), name, keys.getPublic());
        return new JcaX509CertificateConverter().getCertificate(
                builder.build(new JcaContentSignerBuilder(signatureAlgorithm).setProvider(new BouncyCastleProvider()).build(keys.getPrivate())));
    }
}
