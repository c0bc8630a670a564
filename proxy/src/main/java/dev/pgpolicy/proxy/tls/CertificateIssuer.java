package dev.pgpolicy.proxy.tls;

import java.math.BigInteger;
import java.net.InetAddress;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Builds and signs X.509 v3 certificates with the profile of RFC 5280. Only the JDK's providers
 * sign and verify; BouncyCastle is used for ASN.1 and certificate assembly, so no security provider
 * is installed globally.
 */
final class CertificateIssuer {

    enum Profile {
        /** A root CA that signs end-entity certificates only (pathLen 0). */
        CERTIFICATE_AUTHORITY,
        SERVER,
        CLIENT,
        /** A server certificate that is its own issuer. */
        SELF_SIGNED_SERVER
    }

    private static final SecureRandom RANDOM = new SecureRandom();

    private CertificateIssuer() {
    }

    static CertifiedKey selfSignedServer(
            List<String> dnsNames, List<InetAddress> ipAddresses, Validity validity, KeyAlgorithm algorithm) {
        KeyPair keyPair = algorithm.generateKeyPair(RANDOM);
        X500Name subject = commonName(serverCommonName(dnsNames, ipAddresses));
        X509Certificate certificate = sign(Profile.SELF_SIGNED_SERVER, subject, keyPair.getPublic(), validity,
                dnsNames, ipAddresses, subject, null, keyPair.getPrivate());
        return new CertifiedKey(keyPair.getPrivate(), List.of(certificate));
    }

    static X500Name commonName(String commonName) {
        if (commonName == null || commonName.isBlank()) {
            throw new IllegalArgumentException("a certificate needs a non-blank common name");
        }
        return new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, commonName).build();
    }

    static String serverCommonName(List<String> dnsNames, List<InetAddress> ipAddresses) {
        // RFC 6125 6.4.4: clients check subjectAltName and ignore the CN when SANs are present,
        // but the CN still names the certificate in logs and in openssl's output.
        if (!dnsNames.isEmpty()) {
            return dnsNames.get(0);
        }
        if (!ipAddresses.isEmpty()) {
            return ipAddresses.get(0).getHostAddress();
        }
        throw new IllegalArgumentException("a server certificate needs at least one DNS name or IP address");
    }

    /**
     * @param issuerCertificate null when the certificate is self-signed
     */
    static X509Certificate sign(Profile profile, X500Name subject, PublicKey subjectKey, Validity validity,
            List<String> dnsNames, List<InetAddress> ipAddresses,
            X500Name issuer, X509Certificate issuerCertificate, PrivateKey issuerKey) {
        try {
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(issuer, serialNumber(),
                    Date.from(validity.notBefore()), Date.from(validity.notAfter()), subject, subjectKey);
            JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
            builder.addExtension(Extension.subjectKeyIdentifier, false,
                    extensions.createSubjectKeyIdentifier(subjectKey));
            if (issuerCertificate != null) {
                builder.addExtension(Extension.authorityKeyIdentifier, false,
                        extensions.createAuthorityKeyIdentifier(issuerCertificate));
            }
            switch (profile) {
                case CERTIFICATE_AUTHORITY -> {
                    builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
                    builder.addExtension(Extension.keyUsage, true,
                            new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
                }
                case SERVER, SELF_SIGNED_SERVER -> {
                    builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
                    builder.addExtension(Extension.keyUsage, true, endEntityKeyUsage(subjectKey));
                    builder.addExtension(Extension.extendedKeyUsage, false,
                            new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
                    builder.addExtension(Extension.subjectAlternativeName, false,
                            subjectAlternativeNames(dnsNames, ipAddresses));
                }
                case CLIENT -> {
                    builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
                    builder.addExtension(Extension.keyUsage, true, endEntityKeyUsage(subjectKey));
                    builder.addExtension(Extension.extendedKeyUsage, false,
                            new ExtendedKeyUsage(KeyPurposeId.id_kp_clientAuth));
                }
            }
            var signer = new JcaContentSignerBuilder(KeyAlgorithm.signatureAlgorithmFor(issuerKey)).build(issuerKey);
            return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
        } catch (GeneralSecurityException | OperatorCreationException | CertIOException e) {
            throw new PkiException("cannot issue a " + profile + " certificate for " + subject + ": " + e.getMessage(), e);
        }
    }

    /**
     * True when {@code key} is the private half of the certificate's public key, proven by signing
     * a random challenge rather than by comparing encodings (which differ between key formats).
     */
    static boolean keyMatches(PrivateKey key, X509Certificate certificate) {
        if (!key.getAlgorithm().equals(certificate.getPublicKey().getAlgorithm())) {
            return false;
        }
        try {
            String algorithm = KeyAlgorithm.signatureAlgorithmFor(key);
            byte[] challenge = new byte[32];
            RANDOM.nextBytes(challenge);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(challenge);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(certificate.getPublicKey());
            verifier.update(challenge);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static KeyUsage endEntityKeyUsage(PublicKey key) {
        // RSA key exchange (TLS 1.2 without ECDHE) encrypts with the certificate's key.
        return "RSA".equals(key.getAlgorithm())
                ? new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment)
                : new KeyUsage(KeyUsage.digitalSignature);
    }

    private static GeneralNames subjectAlternativeNames(List<String> dnsNames, List<InetAddress> ipAddresses) {
        List<GeneralName> names = new ArrayList<>();
        for (String dns : dnsNames) {
            names.add(new GeneralName(GeneralName.dNSName, dns));
        }
        for (InetAddress ip : ipAddresses) {
            names.add(new GeneralName(GeneralName.iPAddress, ip.getHostAddress()));
        }
        if (names.isEmpty()) {
            throw new IllegalArgumentException("a server certificate needs at least one DNS name or IP address");
        }
        return new GeneralNames(names.toArray(GeneralName[]::new));
    }

    /** RFC 5280 4.1.2.2: positive, at most 20 octets; 159 random bits keep it unpredictable. */
    private static BigInteger serialNumber() {
        return new BigInteger(159, RANDOM).add(BigInteger.ONE);
    }
}
