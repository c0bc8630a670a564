package dev.pgpolicy.proxy.tls;

import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;
import org.bouncycastle.util.io.pem.PemObject;

/**
 * PEM (RFC 7468) files of certificates and private keys, in the forms OpenSSL and libpq read:
 * certificates as {@code CERTIFICATE} blocks, keys as unencrypted PKCS#8 {@code PRIVATE KEY}.
 * Reading also accepts OpenSSL's legacy {@code RSA PRIVATE KEY} and {@code EC PRIVATE KEY}.
 */
public final class Pem {

    /* libpq and the PostgreSQL server refuse a key file that group or others can read. */
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> WORLD_READABLE = PosixFilePermissions.fromString("rw-r--r--");

    private Pem() {
    }

    public static String encodeCertificates(List<X509Certificate> certificates) {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
            for (X509Certificate certificate : certificates) {
                writer.writeObject(certificate);
            }
        } catch (IOException e) {
            throw new PkiException("cannot PEM-encode certificates: " + e.getMessage(), e);
        }
        return text.toString();
    }

    public static String encodePrivateKey(PrivateKey key) {
        byte[] pkcs8 = key.getEncoded();
        if (pkcs8 == null || !"PKCS#8".equals(key.getFormat())) {
            throw new PkiException("private key (" + key.getAlgorithm() + ") has no PKCS#8 encoding");
        }
        StringWriter text = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
            writer.writeObject(new PemObject("PRIVATE KEY", pkcs8));
        } catch (IOException e) {
            throw new PkiException("cannot PEM-encode a private key: " + e.getMessage(), e);
        } finally {
            java.util.Arrays.fill(pkcs8, (byte) 0);
        }
        return text.toString();
    }

    public static void writeCertificates(Path file, List<X509Certificate> certificates) {
        writeAtomically(file, encodeCertificates(certificates), WORLD_READABLE);
    }

    public static void writeCertificate(Path file, X509Certificate certificate) {
        writeCertificates(file, List.of(certificate));
    }

    /** Writes the key with mode 0600 from the moment the file exists, never readable by others. */
    public static void writePrivateKey(Path file, PrivateKey key) {
        writeAtomically(file, encodePrivateKey(key), OWNER_ONLY);
    }

    /** Every certificate in the file, in order; fails when there is none. */
    public static List<X509Certificate> readCertificates(Path file) {
        List<X509Certificate> certificates = new ArrayList<>();
        JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.US_ASCII);
                PEMParser parser = new PEMParser(reader)) {
            for (Object item = parser.readObject(); item != null; item = parser.readObject()) {
                if (item instanceof X509CertificateHolder holder) {
                    certificates.add(converter.getCertificate(holder));
                } else {
                    throw new PkiException(file + ": unexpected PEM block " + item.getClass().getSimpleName()
                            + " in a certificate file (expected only CERTIFICATE blocks)");
                }
            }
        } catch (IOException | CertificateException e) {
            throw new PkiException(file + ": cannot read PEM certificates: " + e.getMessage(), e);
        }
        if (certificates.isEmpty()) {
            throw new PkiException(file + ": no PEM certificate found (expected -----BEGIN CERTIFICATE-----)");
        }
        return List.copyOf(certificates);
    }

    public static X509Certificate readCertificate(Path file) {
        return readCertificates(file).get(0);
    }

    public static PrivateKey readPrivateKey(Path file) {
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.US_ASCII);
                PEMParser parser = new PEMParser(reader)) {
            Object item = parser.readObject();
            if (item == null) {
                throw new PkiException(file + ": no PEM private key found (expected -----BEGIN PRIVATE KEY-----)");
            }
            if (parser.readObject() != null) {
                throw new PkiException(file + ": more than one PEM block; a key file holds exactly one key");
            }
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            if (item instanceof PrivateKeyInfo info) {
                return converter.getPrivateKey(info);
            }
            if (item instanceof PEMKeyPair pair) {
                return converter.getKeyPair(pair).getPrivate();
            }
            if (item instanceof PKCS8EncryptedPrivateKeyInfo || item instanceof PEMEncryptedKeyPair) {
                throw new PkiException(file + ": the private key is encrypted; pgpolicy needs an unencrypted key"
                        + " protected by file permissions (openssl pkey -in KEY -out PLAIN)");
            }
            throw new PkiException(file + ": expected a private key, found " + item.getClass().getSimpleName());
        } catch (IOException e) {
            throw new PkiException(file + ": cannot read PEM private key: " + e.getMessage(), e);
        }
    }

    private static void writeAtomically(Path file, String content, Set<PosixFilePermission> permissions) {
        Path target = file.toAbsolutePath();
        Path directory = target.getParent();
        Path temporary = null;
        try {
            Files.createDirectories(directory);
            temporary = createTemporary(directory, target.getFileName().toString(), permissions);
            Files.writeString(temporary, content, StandardCharsets.US_ASCII);
            try {
                Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING);
            }
            temporary = null;
        } catch (IOException e) {
            throw new PkiException("cannot write " + target + ": " + e.getMessage(), e);
        } finally {
            if (temporary != null) {
                try {
                    Files.deleteIfExists(temporary);
                } catch (IOException ignored) {
                    // The write already failed and that failure is what the caller needs to see.
                }
            }
        }
    }

    private static Path createTemporary(Path directory, String name, Set<PosixFilePermission> permissions)
            throws IOException {
        FileAttribute<Set<PosixFilePermission>> mode = PosixFilePermissions.asFileAttribute(permissions);
        for (int attempt = 0; ; attempt++) {
            Path candidate = directory.resolve("." + name + "." + ProcessHandle.current().pid() + "." + attempt + ".tmp");
            try {
                if (directory.getFileSystem().supportedFileAttributeViews().contains("posix")) {
                    Path created = Files.createFile(candidate, mode);
                    // The umask may have removed bits from the requested mode; set it exactly.
                    Files.setPosixFilePermissions(created, permissions);
                    return created;
                }
                return Files.createFile(candidate);
            } catch (FileAlreadyExistsException e) {
                if (attempt > 100) {
                    throw e;
                }
            }
        }
    }
}
