package dev.pgpolicy.proxy.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgpolicy.proxy.embedded.ExternalCommand;
import dev.pgpolicy.proxy.embedded.ProcessResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PEM files round-trip through our reader and are accepted by OpenSSL, which libpq and the server use. */
class PemTest {
    private static final CertificateAuthority CA = CertificateAuthority.generate("pem test CA");

    @TempDir
    Path temp;

    @Test
    void certificateAndKeyRoundTrip() {
        CertifiedKey server = CA.issueLocalhostServer();
        Path certificate = temp.resolve("server.crt");
        Path key = temp.resolve("server.key");
        server.writeCertificateChain(certificate);
        server.writePrivateKey(key);

        CertifiedKey loaded = CertifiedKey.load(certificate, key);

        assertThat(loaded.certificate()).isEqualTo(server.certificate());
        assertThat(loaded.privateKey().getEncoded()).isEqualTo(server.privateKey().getEncoded());
        assertThat(loaded.fingerprint()).isEqualTo(server.fingerprint());
    }

    @Test
    void privateKeyFileIsOwnerOnlyEvenWhenReplacingAReadableFile() throws Exception {
        Path key = temp.resolve("client.key");
        Files.writeString(key, "old");
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r--r--"));

        Pem.writePrivateKey(key, CA.issueClient("ana").privateKey());

        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key))).isEqualTo("rw-------");
        assertThat(Files.readString(key)).startsWith("-----BEGIN PRIVATE KEY-----\n");
        try (var leftovers = Files.list(temp)) {
            assertThat(leftovers.map(p -> p.getFileName().toString())).containsExactly("client.key");
        }
    }

    @Test
    void fingerprintMatchesOpenssl() {
        Path certificate = temp.resolve("ca.crt");
        CA.writeCertificate(certificate);

        ProcessResult result = openssl("x509", "-in", certificate.toString(), "-noout", "-fingerprint", "-sha256");

        assertThat(result.stdout().strip()).isEqualToIgnoringCase("sha256 Fingerprint=" + CA.fingerprint());
        assertThat(CA.fingerprint()).matches("([0-9A-F]{2}:){31}[0-9A-F]{2}");
    }

    @Test
    void opensslVerifiesTheChainAndReadsTheKey() {
        CertifiedKey client = CA.issueClient("ana");
        Path caFile = temp.resolve("ca.crt");
        Path certificate = temp.resolve("ana.crt");
        Path key = temp.resolve("ana.key");
        CA.writeCertificate(caFile);
        client.writeCertificateChain(certificate);
        client.writePrivateKey(key);

        ProcessResult verify = openssl("verify", "-CAfile", caFile.toString(), "-purpose", "sslclient", certificate.toString());
        assertThat(verify.stdout()).contains(certificate + ": OK");

        ProcessResult pkey = openssl("pkey", "-in", key.toString(), "-pubout");
        ProcessResult certPub = openssl("x509", "-in", certificate.toString(), "-noout", "-pubkey");
        assertThat(pkey.stdout()).isEqualTo(certPub.stdout());
    }

    @Test
    void opensslAcceptsTheServerCertificateForItsNames() {
        CertifiedKey server = CA.issueLocalhostServer();
        Path caFile = temp.resolve("ca.crt");
        Path certificate = temp.resolve("server.crt");
        CA.writeCertificate(caFile);
        server.writeCertificateChain(certificate);

        assertThat(openssl("verify", "-CAfile", caFile.toString(), "-purpose", "sslserver",
                "-verify_hostname", "localhost", certificate.toString()).stdout()).contains(": OK");
        assertThat(openssl("verify", "-CAfile", caFile.toString(), "-verify_ip", "127.0.0.1",
                certificate.toString()).stdout()).contains(": OK");
        ProcessResult wrongName = ExternalCommand.of("openssl", "verify", "-CAfile", caFile.toString(),
                "-verify_hostname", "db.example.com", certificate.toString()).run();
        assertThat(wrongName.exitCode()).isNotZero();
    }

    @Test
    void readsOpensslLegacyEcAndRsaKeys() {
        Path ec = temp.resolve("ec.key");
        openssl("ecparam", "-genkey", "-name", "prime256v1", "-noout", "-out", ec.toString());
        Path rsa = temp.resolve("rsa.key");
        openssl("genrsa", "-traditional", "-out", rsa.toString(), "2048");

        assertThat(Pem.readPrivateKey(ec).getAlgorithm()).isEqualTo("EC");
        assertThat(Pem.readPrivateKey(rsa).getAlgorithm()).isEqualTo("RSA");
    }

    @Test
    void encryptedKeyIsRefusedWithAnExplanation() {
        Path plain = temp.resolve("plain.key");
        Pem.writePrivateKey(plain, CA.issueClient("x").privateKey());
        Path encrypted = temp.resolve("encrypted.key");
        openssl("pkcs8", "-topk8", "-in", plain.toString(), "-out", encrypted.toString(), "-passout", "pass:secret");

        assertThatThrownBy(() -> Pem.readPrivateKey(encrypted))
                .isInstanceOf(PkiException.class)
                .hasMessageContaining("encrypted");
    }

    @Test
    void keyOfAnotherCertificateIsRejectedOnLoad() {
        Path certificate = temp.resolve("a.crt");
        Path key = temp.resolve("b.key");
        CA.issueClient("a").writeCertificateChain(certificate);
        CA.issueClient("b").writePrivateKey(key);

        assertThatThrownBy(() -> CertifiedKey.load(certificate, key))
                .isInstanceOf(PkiException.class)
                .hasMessageContaining("does not belong to the certificate");
    }

    @Test
    void fileWithoutCertificatesNamesTheFile() throws Exception {
        Path empty = temp.resolve("empty.crt");
        Files.writeString(empty, "not pem\n");

        assertThatThrownBy(() -> Pem.readCertificates(empty))
                .isInstanceOf(PkiException.class)
                .hasMessageContaining(empty.toString())
                .hasMessageContaining("no PEM certificate");
    }

    @Test
    void chainKeepsItsOrder() {
        List<X509Certificate> chain = List.of(CA.issueClient("leaf").certificate(), CA.certificate());
        Path file = temp.resolve("chain.crt");
        Pem.writeCertificates(file, chain);

        assertThat(Pem.readCertificates(file)).containsExactlyElementsOf(chain);
    }

    @Test
    void toStringNeverShowsKeyMaterial() {
        CertifiedKey key = CA.issueClient("ana");
        assertThat(key.toString()).contains("CN=ana").doesNotContain("PRIVATE").doesNotContain(
                java.util.Base64.getEncoder().encodeToString(key.privateKey().getEncoded()).substring(0, 16));
    }

    private static ProcessResult openssl(String... arguments) {
        List<String> command = new java.util.ArrayList<>(List.of("openssl"));
        command.addAll(List.of(arguments));
        ProcessResult result = ExternalCommand.of(command).run();
        assertThat(result.exitCode()).as(result.describe()).isZero();
        return result;
    }
}
