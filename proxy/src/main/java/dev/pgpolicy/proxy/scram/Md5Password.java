package dev.pgpolicy.proxy.scram;

import dev.pgpolicy.proxy.wire.Bytes;
import dev.pgpolicy.proxy.wire.PasswordMessage;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;

/**
 * The answer to AuthenticationMD5Password for servers still configured with {@code md5}
 * (PostgreSQL docs, "Password Authentication"):
 * {@code "md5" + hex(md5(hex(md5(password + user)) + salt))}. MD5 is weak and the exchange has no
 * server proof or channel binding; prefer SCRAM upstream whenever the server allows it.
 */
public final class Md5Password {
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private Md5Password() {
    }

    public static PasswordMessage response(String user, char[] password, Bytes salt) {
        if (salt.length() != 4) {
            throw new IllegalArgumentException("MD5 salt must be 4 bytes");
        }
        ByteBuffer encoded = StandardCharsets.UTF_8.encode(CharBuffer.wrap(password));
        byte[] passwordBytes = encoded.array();
        int passwordLength = encoded.remaining();
        byte[] userBytes = user.getBytes(StandardCharsets.UTF_8);
        byte[] inner = null;
        byte[] innerHex = null;
        byte[] outer = null;
        try {
            MessageDigest md5 = MessageDigest.getInstance("MD5");
            md5.update(passwordBytes, 0, passwordLength);
            md5.update(userBytes);
            inner = md5.digest();
            innerHex = hex(inner);
            md5.update(innerHex);
            md5.update(salt.toByteArray());
            outer = md5.digest();
            byte[] answer = new byte[3 + 32];
            answer[0] = 'm';
            answer[1] = 'd';
            answer[2] = '5';
            System.arraycopy(hex(outer), 0, answer, 3, 32);
            return new PasswordMessage(Bytes.of(answer));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("MD5 is a mandatory JCA algorithm", e);
        } finally {
            ScramCrypto.wipe(passwordBytes, inner, innerHex, outer);
        }
    }

    private static byte[] hex(byte[] digest) {
        byte[] out = new byte[digest.length * 2];
        for (int i = 0; i < digest.length; i++) {
            out[2 * i] = (byte) HEX[(digest[i] >> 4) & 0xF];
            out[2 * i + 1] = (byte) HEX[digest[i] & 0xF];
        }
        return out;
    }

    static String hexOf(byte[] digest) {
        return new String(hex(digest), StandardCharsets.US_ASCII);
    }
}
