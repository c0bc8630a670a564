package dev.pgpolicy.proxy.scram;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.Arrays;
import java.util.Optional;

/**
 * SASLprep (RFC 4013, a profile of RFC 3454 stringprep) for SCRAM passwords, as PostgreSQL applies
 * it: {@code Normalize(password)} in RFC 5802's {@code Hi(Normalize(password), salt, i)}.
 *
 * <p>PostgreSQL's rule (src/common/saslprep.c, used alike by the server, libpq and
 * {@code \password}): when SASLprep rejects a password, the raw UTF-8 bytes are hashed instead, so
 * every password still works. {@link #passwordBytes} follows that rule; {@link #prepare} is the
 * strict profile and says why a string is rejected. Both follow PostgreSQL in one detail that the
 * RFC orders differently: the prohibition and bidi checks look at the mapped string before NFKC.
 * A verifier made here must match what libpq derives from the same password, so PostgreSQL's
 * reading wins.
 */
public final class SaslPrep {

    /** Why the strict profile rejected a string. */
    public enum Rejection {
        EMPTY,
        PROHIBITED_CHARACTER,
        UNASSIGNED_CODE_POINT,
        BIDI_VIOLATION,
        INVALID_UNICODE
    }

    /** The outcome of {@link #prepare}: the prepared string, or why there is none. */
    public record Result(Optional<String> prepared, Optional<Rejection> rejection) {
        static Result ok(String prepared) {
            return new Result(Optional.of(prepared), Optional.empty());
        }

        static Result rejected(Rejection why) {
            return new Result(Optional.empty(), Optional.of(why));
        }

        @Override
        public String toString() {
            // The input is a password: only say whether it passed.
            return rejection.map(r -> "SaslPrep.Result[rejected: " + r + "]").orElse("SaslPrep.Result[ok]");
        }
    }

    private static final int SPACE = 0x20;

    private SaslPrep() {
    }

    /** The strict SASLprep profile (stored strings: unassigned code points are prohibited). */
    public static Result prepare(String input) {
        // RFC 4013 section 2.1 and 2.2: map non-ASCII spaces (C.1.2) to SPACE, remove B.1.
        int[] mapped = new int[input.length()];
        int count = 0;
        for (int i = 0; i < input.length(); ) {
            int codePoint = input.codePointAt(i);
            if (Character.isSurrogate(input.charAt(i)) && !Character.isSupplementaryCodePoint(codePoint)) {
                Arrays.fill(mapped, 0);
                return Result.rejected(Rejection.INVALID_UNICODE);
            }
            i += Character.charCount(codePoint);
            if (StringprepTables.contains(StringprepTables.NON_ASCII_SPACE, codePoint)) {
                mapped[count++] = SPACE;
            } else if (!StringprepTables.contains(StringprepTables.MAPPED_TO_NOTHING, codePoint)) {
                mapped[count++] = codePoint;
            }
        }
        try {
            if (count == 0) {
                return Result.rejected(Rejection.EMPTY);
            }
            // RFC 4013 section 2.3 and 2.5: prohibited output and unassigned code points.
            boolean anyRandAL = false;
            for (int i = 0; i < count; i++) {
                if (StringprepTables.contains(StringprepTables.PROHIBITED, mapped[i])) {
                    return Result.rejected(Rejection.PROHIBITED_CHARACTER);
                }
                if (StringprepTables.contains(StringprepTables.UNASSIGNED, mapped[i])) {
                    return Result.rejected(Rejection.UNASSIGNED_CODE_POINT);
                }
                anyRandAL |= StringprepTables.contains(StringprepTables.RAND_AL_CAT, mapped[i]);
            }
            // RFC 3454 section 6: a string with any RandALCat character has no LCat character and
            // starts and ends with a RandALCat character.
            if (anyRandAL) {
                for (int i = 0; i < count; i++) {
                    if (StringprepTables.contains(StringprepTables.L_CAT, mapped[i])) {
                        return Result.rejected(Rejection.BIDI_VIOLATION);
                    }
                }
                if (!StringprepTables.contains(StringprepTables.RAND_AL_CAT, mapped[0])
                        || !StringprepTables.contains(StringprepTables.RAND_AL_CAT, mapped[count - 1])) {
                    return Result.rejected(Rejection.BIDI_VIOLATION);
                }
            }
            // RFC 4013 section 2.4: Unicode normalization form KC.
            return Result.ok(Normalizer.normalize(new String(mapped, 0, count), Normalizer.Form.NFKC));
        } finally {
            Arrays.fill(mapped, 0);
        }
    }

    /**
     * The bytes that enter {@code Hi()} for {@code password}: the SASLprep output in UTF-8, or the
     * password's own UTF-8 bytes when SASLprep rejects it (PostgreSQL's rule). The caller wipes the
     * result. A password that is not valid Unicode (an unpaired surrogate) has no UTF-8 form and
     * is refused. ASCII passwords never become a String; others must, because
     * {@link Normalizer} works on strings, so a copy may linger on the heap until collected.
     */
    public static byte[] passwordBytes(char[] password) {
        if (isAscii(password)) {
            // An ASCII string needs no mapping or normalization; PostgreSQL takes it as it is,
            // control characters included. This path also keeps the password out of any String.
            byte[] bytes = new byte[password.length];
            for (int i = 0; i < password.length; i++) {
                bytes[i] = (byte) password[i];
            }
            return bytes;
        }
        Result result = prepare(new String(password));
        if (result.rejection().equals(Optional.of(Rejection.INVALID_UNICODE))) {
            throw new IllegalArgumentException("the password is not valid Unicode (unpaired surrogate)");
        }
        return result.prepared().map(p -> p.getBytes(StandardCharsets.UTF_8)).orElseGet(() -> utf8(password));
    }

    private static boolean isAscii(char[] password) {
        for (char c : password) {
            if (c >= 0x80) {
                return false;
            }
        }
        return true;
    }

    private static byte[] utf8(char[] password) {
        CharsetEncoder encoder = StandardCharsets.UTF_8.newEncoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer encoded = null;
        try {
            encoded = encoder.encode(CharBuffer.wrap(password));
            byte[] bytes = new byte[encoded.remaining()];
            encoded.get(bytes);
            return bytes;
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("the password is not valid Unicode", e);
        } finally {
            if (encoded != null && encoded.hasArray()) {
                Arrays.fill(encoded.array(), (byte) 0);
            }
        }
    }
}
