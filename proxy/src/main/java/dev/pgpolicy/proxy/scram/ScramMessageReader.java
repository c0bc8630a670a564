package dev.pgpolicy.proxy.scram;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * A cursor over one SCRAM message: {@code attr=value} pairs separated by ',' (RFC 5802 section 7).
 * Every defect is a {@link MalformedScramException} whose message names the rule, for the
 * "malformed SCRAM message" DETAIL; values are never echoed, since they carry nonces and proofs.
 */
final class ScramMessageReader {
    private final String text;
    private int position;

    private ScramMessageReader(String text) {
        this.text = text;
    }

    /** Strict UTF-8 (RFC 5802 section 5.1: messages are UTF-8), no NUL, not empty. */
    static ScramMessageReader of(byte[] message, String what) throws MalformedScramException {
        if (message.length == 0) {
            throw new MalformedScramException("The " + what + " is empty.");
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(message))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new MalformedScramException("The " + what + " is not valid UTF-8.");
        }
        if (text.indexOf('\0') >= 0) {
            throw new MalformedScramException("The " + what + " contains a NUL character.");
        }
        return new ScramMessageReader(text);
    }

    String text() {
        return text;
    }

    int position() {
        return position;
    }

    boolean atEnd() {
        return position >= text.length();
    }

    /** The next character without consuming it; 0 at the end. */
    char peek() {
        return atEnd() ? 0 : text.charAt(position);
    }

    void expect(char expected, String context) throws MalformedScramException {
        if (atEnd() || text.charAt(position) != expected) {
            throw new MalformedScramException("Expected character \"" + expected + "\" " + context + ".");
        }
        position++;
    }

    /** Reads {@code name=value} up to the next ',' or the end, consuming a following ','. */
    String attribute(char name) throws MalformedScramException {
        if (peek() != name) {
            throw new MalformedScramException("Expected attribute \"" + name + "\".");
        }
        return valueAfterName();
    }

    /** Reads any {@code x=value} where x is a letter (RFC 5802 {@code attr-val}); returns x. */
    char anyAttribute() throws MalformedScramException {
        char name = peek();
        if (!((name >= 'a' && name <= 'z') || (name >= 'A' && name <= 'Z'))) {
            throw new MalformedScramException("Attribute expected, but found end of string or an invalid character.");
        }
        valueAfterName();
        return name;
    }

    private String valueAfterName() throws MalformedScramException {
        char name = text.charAt(position);
        position++;
        expect('=', "after attribute \"" + name + "\"");
        int end = text.indexOf(',', position);
        if (end < 0) {
            end = text.length();
        }
        if (end == text.length() - 1) {
            throw new MalformedScramException("Unexpected \",\" at the end of the message.");
        }
        String value = text.substring(position, end);
        position = end < text.length() ? end + 1 : end;
        return value;
    }

    /** RFC 5802 {@code printable}: %x21-2B / %x2D-7E, at least one. */
    static void checkNonce(String nonce) throws MalformedScramException {
        if (nonce.isEmpty()) {
            throw new MalformedScramException("The nonce is empty.");
        }
        for (int i = 0; i < nonce.length(); i++) {
            char c = nonce.charAt(i);
            if (c < 0x21 || c > 0x7E || c == ',') {
                throw new MalformedScramException("The nonce contains a character that is not printable ASCII.");
            }
        }
    }

    /** RFC 5802 {@code saslname}: '=' only as "=2C" or "=3D", no ','. */
    static String decodeSaslName(String name) throws MalformedScramException {
        StringBuilder out = new StringBuilder(name.length());
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '=') {
                if (name.startsWith("=2C", i)) {
                    out.append(',');
                } else if (name.startsWith("=3D", i)) {
                    out.append('=');
                } else {
                    throw new MalformedScramException("The user name contains an invalid escape.");
                }
                i += 2;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    static String encodeSaslName(String name) {
        return name.replace("=", "=3D").replace(",", "=2C");
    }

    /** Strict base64 as PostgreSQL's decoder: padded to a multiple of four, standard alphabet. */
    static byte[] base64(String value, String what) throws MalformedScramException {
        if (value.length() % 4 != 0) {
            throw new MalformedScramException("The " + what + " is not valid base64.");
        }
        try {
            return Base64.getDecoder().decode(value);
        } catch (IllegalArgumentException e) {
            throw new MalformedScramException("The " + what + " is not valid base64.");
        }
    }
}
