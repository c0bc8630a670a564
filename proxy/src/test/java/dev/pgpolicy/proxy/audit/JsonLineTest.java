package dev.pgpolicy.proxy.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.pgpolicy.proxy.audit.JsonLine.Surrogates;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link JsonLine} against the Jackson generators that wrote the first audit logs, on random
 * strings drawn from every character class the writer treats apart: ordinary fields went through
 * Jackson's UTF-8 generator, connection fields through its character generator and then into the
 * line as raw UTF-8, both after unpaired surrogates were replaced with U+FFFD.
 */
class JsonLineTest {
    private static final JsonFactory JSON = new JsonFactory();
    /** Characters from each class: plain ASCII, escaped ASCII, 2- and 3-byte UTF-8, surrogates. */
    private static final char[] ALPHABET = ("aZ09 _-/'{}[]:,.\u007f\"\\\b\t\n\f\r\u0000\u0001\u001f"
            + "\u0080\u00e9\u00ff\u07ff\u0800\u20ac\u2028\u2029\ufeff\ufffd\uffff"
            + "\ud800\ud83d\udbff\udc00\ude00\udfff").toCharArray();

    @Test
    void stringsAreWrittenAsJacksonWroteThem() throws IOException {
        SplittableRandom random = new SplittableRandom(20261205L);
        JsonLine line = new JsonLine(8);
        for (int round = 0; round < 20_000; round++) {
            String value = randomString(random);
            line.reset();
            line.string(value, Surrogates.ESCAPED);
            assertThat(new String(line.copy(), StandardCharsets.UTF_8)).as(escapedForMessage(value))
                    .isEqualTo(new String(jacksonUtf8(value), StandardCharsets.UTF_8));
            assertThat(line.copy()).as(escapedForMessage(value)).isEqualTo(jacksonUtf8(value));
            line.reset();
            line.string(value, Surrogates.UTF8);
            assertThat(line.copy()).as(escapedForMessage(value)).isEqualTo(jacksonCharsThenRaw(value));
        }
    }

    @Test
    void aLongStringGrowsTheBufferAndStaysExact() throws IOException {
        String value = "x\u00e9\"\ud83d\ude00".repeat(50_000);
        JsonLine line = new JsonLine(4);
        line.raw((byte) '[');
        line.string(value, Surrogates.ESCAPED);
        byte[] expected = jacksonUtf8(value);
        assertThat(line.size()).isEqualTo(expected.length + 1);
        assertThat(Arrays.copyOfRange(line.bytes(), 1, line.size())).isEqualTo(expected);
    }

    @Test
    void numbersAreTheirDecimalDigits() {
        SplittableRandom random = new SplittableRandom(7);
        JsonLine line = new JsonLine(1);
        long[] edges = {0, 1, 9, 10, 99, 100, -1, -9, -10, Long.MAX_VALUE, Long.MIN_VALUE, Long.MIN_VALUE + 1,
                999_999_999_999_999_999L, 1_000_000_000_000_000_000L};
        for (long value : edges) {
            line.reset();
            line.number(value);
            assertThat(new String(line.copy(), StandardCharsets.US_ASCII)).isEqualTo(Long.toString(value));
        }
        for (int i = 0; i < 10_000; i++) {
            long value = random.nextLong() >> random.nextInt(64);
            line.reset();
            line.number(value);
            assertThat(new String(line.copy(), StandardCharsets.US_ASCII)).isEqualTo(Long.toString(value));
        }
    }

    @Test
    void nullsAndListsAreWrittenAsJacksonWroteThem() {
        JsonLine line = new JsonLine(2);
        line.string(null, Surrogates.ESCAPED);
        line.raw((byte) ' ');
        line.strings(Arrays.asList("a", null, "b\"c"), Surrogates.ESCAPED);
        line.raw((byte) ' ');
        line.strings(List.of(), Surrogates.UTF8);
        line.raw((byte) ' ');
        line.bool(true);
        line.bool(false);
        assertThat(new String(line.copy(), StandardCharsets.UTF_8)).isEqualTo("null [\"a\",null,\"b\\\"c\"] [] truefalse");
    }

    private static String randomString(SplittableRandom random) {
        int length = random.nextInt(12) == 0 ? 0 : random.nextInt(1, 40);
        StringBuilder text = new StringBuilder(length);
        // Runs of plain ASCII first, sometimes, so the fast path hands over to the careful one mid-string.
        if (random.nextBoolean()) {
            text.append("select * from t where a = ", 0, random.nextInt(27));
        }
        for (int i = 0; i < length; i++) {
            text.append(ALPHABET[random.nextInt(ALPHABET.length)]);
        }
        return text.toString();
    }

    private static byte[] jacksonUtf8(String value) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JsonGenerator generator = JSON.createGenerator(out, JsonEncoding.UTF8)) {
            generator.writeString(wellFormed(value));
        }
        return out.toByteArray();
    }

    private static byte[] jacksonCharsThenRaw(String value) throws IOException {
        StringWriter chars = new StringWriter();
        try (JsonGenerator generator = JSON.createGenerator(chars)) {
            generator.writeString(wellFormed(value));
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JsonGenerator generator = JSON.createGenerator(out, JsonEncoding.UTF8)) {
            generator.writeRaw(chars.toString());
        }
        return out.toByteArray();
    }

    /** The replacement of unpaired surrogates the Jackson-based encoder made before writing. */
    private static String wellFormed(String value) {
        StringBuilder fixed = new StringBuilder(value.length());
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < value.length() && Character.isLowSurrogate(value.charAt(i + 1))) {
                fixed.append(c).append(value.charAt(++i));
            } else {
                fixed.append(Character.isSurrogate(c) ? '\ufffd' : c);
            }
        }
        return fixed.toString();
    }

    private static String escapedForMessage(String value) {
        StringBuilder text = new StringBuilder();
        value.chars().forEach(c -> text.append(c >= 0x20 && c < 0x7f ? String.valueOf((char) c) : String.format("\\u%04x", c)));
        return text.toString();
    }
}
