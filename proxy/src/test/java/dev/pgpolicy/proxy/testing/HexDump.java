package dev.pgpolicy.proxy.testing;

/** Hex for assertion messages: "51 00 00 00 0d" reads better than a byte array's identity. */
public final class HexDump {
    private HexDump() {
    }

    public static String of(byte[] bytes) {
        StringBuilder out = new StringBuilder(bytes.length * 3);
        for (int i = 0; i < bytes.length; i++) {
            if (i > 0) {
                out.append(i % 16 == 0 ? '\n' : ' ');
            }
            out.append(Character.forDigit((bytes[i] >> 4) & 0xF, 16)).append(Character.forDigit(bytes[i] & 0xF, 16));
        }
        return out.toString();
    }
}
