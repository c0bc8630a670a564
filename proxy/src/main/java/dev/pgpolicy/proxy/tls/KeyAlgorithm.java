package dev.pgpolicy.proxy.tls;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.RSAKeyGenParameterSpec;

/**
 * Key types the tooling generates. EC P-256 is the default: key generation takes microseconds
 * (tests create many certificates) and every TLS 1.2/1.3 stack PostgreSQL links against accepts it.
 * RSA 2048 stays available for clients that still cannot do ECDSA.
 */
public enum KeyAlgorithm {
    EC_P256("EC", "SHA256withECDSA"),
    RSA_2048("RSA", "SHA256withRSA");

    private final String jcaName;
    private final String signatureAlgorithm;

    KeyAlgorithm(String jcaName, String signatureAlgorithm) {
        this.jcaName = jcaName;
        this.signatureAlgorithm = signatureAlgorithm;
    }

    public KeyPair generateKeyPair(SecureRandom random) {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance(jcaName);
            switch (this) {
                case EC_P256 -> generator.initialize(new ECGenParameterSpec("secp256r1"), random);
                case RSA_2048 -> generator.initialize(
                        new RSAKeyGenParameterSpec(2048, RSAKeyGenParameterSpec.F4), random);
            }
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new PkiException("cannot generate a " + this + " key pair: " + e.getMessage(), e);
        }
    }

    /** The signature algorithm a CA holding a key of this type signs certificates with. */
    String signatureAlgorithm() {
        return signatureAlgorithm;
    }

    /** Chooses the signature algorithm from an existing key (a CA loaded from disk). */
    static String signatureAlgorithmFor(java.security.PrivateKey key) {
        return switch (key.getAlgorithm()) {
            case "EC", "ECDSA" -> EC_P256.signatureAlgorithm;
            case "RSA" -> RSA_2048.signatureAlgorithm;
            default -> throw new PkiException("unsupported signing key algorithm " + key.getAlgorithm()
                    + " (expected EC or RSA)");
        };
    }
}
