package dev.pgpolicy.proxy.tls;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;

/** Certificate fingerprints in the form operators compare by eye with OpenSSL's output. */
public final class Fingerprint {
    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private Fingerprint() {
    }

    /**
     * SHA-256 over the DER encoding, as upper-case hex pairs joined by colons: the same text
     * {@code openssl x509 -noout -fingerprint -sha256} prints after {@code sha256 Fingerprint=}.
     */
    public static String sha256(X509Certificate certificate) {
        try {
            return colonHex(MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded()));
        } catch (CertificateEncodingException | NoSuchAlgorithmException e) {
            throw new PkiException("cannot fingerprint " + certificate.getSubjectX500Principal() + ": " + e, e);
        }
    }

    static String colonHex(byte[] bytes) {
        StringBuilder out = new StringBuilder(bytes.length * 3);
        for (int i = 0; i < bytes.length; i++) {
            if (i > 0) {
                out.append(':');
            }
            out.append(HEX[(bytes[i] >> 4) & 0xF]).append(HEX[bytes[i] & 0xF]);
        }
        return out.toString();
    }
}
