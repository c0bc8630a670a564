package dev.pgpolicy.proxy.scram;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.Map;
import java.util.Optional;
import org.bouncycastle.asn1.pkcs.RSASSAPSSparams;

/**
 * Channel binding data of type {@code tls-server-end-point} (RFC 5929 section 4.1): the hash of
 * the TLS server's certificate, the only type PostgreSQL supports. Binding the SCRAM exchange to it
 * makes a man in the middle that terminates TLS with another certificate fail the proof check.
 *
 * <p>The hash function is the one in the certificate's signatureAlgorithm, except that MD5 and
 * SHA-1 are replaced by SHA-256. Signature algorithms with no single hash function (Ed25519,
 * Ed448) have no defined binding, so {@link #tlsServerEndPoint} returns empty for them and the
 * caller offers or uses no -PLUS mechanism.
 */
public final class ChannelBinding {
    public static final String TLS_SERVER_END_POINT = "tls-server-end-point";

    private static final String RSASSA_PSS = "1.2.840.113549.1.1.10";

    /** Signature algorithm OID to the hash used for the binding (RFC 5929: MD5 and SHA-1 become SHA-256). */
    private static final Map<String, String> HASH_BY_SIGNATURE = Map.ofEntries(
            Map.entry("1.2.840.113549.1.1.4", "SHA-256"),   // md5WithRSAEncryption
            Map.entry("1.2.840.113549.1.1.5", "SHA-256"),   // sha1WithRSAEncryption
            Map.entry("1.2.840.113549.1.1.14", "SHA-224"),  // sha224WithRSAEncryption
            Map.entry("1.2.840.113549.1.1.11", "SHA-256"),  // sha256WithRSAEncryption
            Map.entry("1.2.840.113549.1.1.12", "SHA-384"),  // sha384WithRSAEncryption
            Map.entry("1.2.840.113549.1.1.13", "SHA-512"),  // sha512WithRSAEncryption
            Map.entry("1.2.840.10045.4.1", "SHA-256"),      // ecdsa-with-SHA1
            Map.entry("1.2.840.10045.4.3.1", "SHA-224"),    // ecdsa-with-SHA224
            Map.entry("1.2.840.10045.4.3.2", "SHA-256"),    // ecdsa-with-SHA256
            Map.entry("1.2.840.10045.4.3.3", "SHA-384"),    // ecdsa-with-SHA384
            Map.entry("1.2.840.10045.4.3.4", "SHA-512"),    // ecdsa-with-SHA512
            Map.entry("1.2.840.10040.4.3", "SHA-256"),      // dsa-with-sha1
            Map.entry("2.16.840.1.101.3.4.3.1", "SHA-224"), // dsa-with-sha224
            Map.entry("2.16.840.1.101.3.4.3.2", "SHA-256")); // dsa-with-sha256

    /** Hash algorithm OID (inside RSASSA-PSS parameters) to the hash used for the binding. */
    private static final Map<String, String> HASH_BY_DIGEST = Map.of(
            "1.3.14.3.2.26", "SHA-256",              // SHA-1
            "2.16.840.1.101.3.4.2.4", "SHA-224",
            "2.16.840.1.101.3.4.2.1", "SHA-256",
            "2.16.840.1.101.3.4.2.2", "SHA-384",
            "2.16.840.1.101.3.4.2.3", "SHA-512");

    private final byte[] data;

    private ChannelBinding(byte[] data) {
        this.data = data;
    }

    /** The binding for a connection whose TLS server presented {@code certificate}. */
    public static Optional<ChannelBinding> tlsServerEndPoint(X509Certificate certificate) {
        Optional<String> hash = bindingHash(certificate);
        if (hash.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(new ChannelBinding(
                    MessageDigest.getInstance(hash.get()).digest(certificate.getEncoded())));
        } catch (CertificateEncodingException e) {
            return Optional.empty();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(hash.get() + " is a mandatory JCA algorithm", e);
        }
    }

    /** For tests: binding data given as bytes. */
    static ChannelBinding of(byte[] data) {
        return new ChannelBinding(data.clone());
    }

    static Optional<String> bindingHash(X509Certificate certificate) {
        String oid = certificate.getSigAlgOID();
        if (RSASSA_PSS.equals(oid)) {
            byte[] parameters = certificate.getSigAlgParams();
            // Absent parameters mean the RFC 4055 defaults: SHA-1, hence SHA-256 here.
            if (parameters == null) {
                return Optional.of("SHA-256");
            }
            try {
                String digest = RSASSAPSSparams.getInstance(parameters).getHashAlgorithm().getAlgorithm().getId();
                return Optional.ofNullable(HASH_BY_DIGEST.get(digest));
            } catch (IllegalArgumentException e) {
                return Optional.empty();
            }
        }
        return Optional.ofNullable(HASH_BY_SIGNATURE.get(oid));
    }

    public String type() {
        return TLS_SERVER_END_POINT;
    }

    /** The certificate hash; a copy. */
    public byte[] data() {
        return data.clone();
    }

    byte[] dataView() {
        return data;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof ChannelBinding that && MessageDigest.isEqual(data, that.data);
    }

    @Override
    public int hashCode() {
        return java.util.Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "ChannelBinding[" + TLS_SERVER_END_POINT + ", " + data.length + " bytes]";
    }
}
