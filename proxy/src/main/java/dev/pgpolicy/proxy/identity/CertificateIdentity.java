package dev.pgpolicy.proxy.identity;

import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.security.auth.x500.X500Principal;

/**
 * The identities a verified client certificate asserts: its subject CN and its subjectAltName
 * DNS names and e-mail addresses (RFC 5280 section 4.2.1.6). Chain, expiry and CA checks belong
 * to the TLS layer; this only reads names from a certificate that passed them.
 */
public final class CertificateIdentity {
    private static final int SAN_RFC822_NAME = 1;
    private static final int SAN_DNS_NAME = 2;

    private CertificateIdentity() {
    }

    /**
     * The subject's CN; empty when there is none or more than one, since a certificate naming two
     * people identifies neither (fail closed).
     */
    public static Optional<String> commonName(X509Certificate certificate) {
        try {
            LdapName subject = new LdapName(certificate.getSubjectX500Principal().getName(X500Principal.RFC2253));
            List<String> names = new ArrayList<>();
            for (Rdn rdn : subject.getRdns()) {
                if ("CN".equalsIgnoreCase(rdn.getType()) && rdn.getValue() instanceof String value) {
                    names.add(value);
                }
            }
            return names.size() == 1 ? Optional.of(names.get(0)) : Optional.empty();
        } catch (InvalidNameException e) {
            return Optional.empty();
        }
    }

    /** DNS names and e-mail addresses from subjectAltName, in certificate order. */
    public static List<String> alternativeNames(X509Certificate certificate) {
        Collection<List<?>> entries;
        try {
            entries = certificate.getSubjectAlternativeNames();
        } catch (CertificateParsingException e) {
            return List.of();
        }
        if (entries == null) {
            return List.of();
        }
        List<String> names = new ArrayList<>();
        for (List<?> entry : entries) {
            if (entry.size() >= 2 && entry.get(0) instanceof Integer type
                    && (type == SAN_DNS_NAME || type == SAN_RFC822_NAME) && entry.get(1) instanceof String name) {
                names.add(name);
            }
        }
        return List.copyOf(names);
    }

    /**
     * Whether {@code certificate} authenticates {@code user}: the user accepts certificates and
     * the certificate's CN, or one of its DNS or e-mail alternative names, equals the user's
     * certificate identity ({@code cert_cn}, else the user name).
     */
    public static boolean authenticates(X509Certificate certificate, UserEntry user) {
        if (!user.auth().needsCertificate()) {
            return false;
        }
        String expected = user.certificateIdentity();
        return commonName(certificate).filter(expected::equals).isPresent()
                || alternativeNames(certificate).contains(expected);
    }
}
