package dev.pgpolicy.proxy.scram;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class StringprepTablesTest {
    private static final List<int[]> TABLES = List.of(StringprepTables.MAPPED_TO_NOTHING,
            StringprepTables.NON_ASCII_SPACE, StringprepTables.PROHIBITED, StringprepTables.UNASSIGNED,
            StringprepTables.RAND_AL_CAT, StringprepTables.L_CAT);

    @Test
    void rangesAreSortedDisjointAndWithinUnicode() {
        for (int[] table : TABLES) {
            assertThat(table.length % 2).isZero();
            for (int i = 0; i < table.length; i += 2) {
                assertThat(table[i]).isLessThanOrEqualTo(table[i + 1]);
                assertThat(table[i + 1]).isLessThanOrEqualTo(Character.MAX_CODE_POINT);
                if (i > 0) {
                    assertThat(table[i]).isGreaterThan(table[i - 1] + 1);
                }
            }
        }
    }

    /** Samples from RFC 3454's appendices, at range edges where a lookup error would show. */
    @Test
    void samplesFromTheRfc() {
        assertThat(StringprepTables.contains(StringprepTables.MAPPED_TO_NOTHING, 0x00AD)).isTrue();
        assertThat(StringprepTables.contains(StringprepTables.MAPPED_TO_NOTHING, 0xFE0F)).isTrue();
        assertThat(StringprepTables.contains(StringprepTables.MAPPED_TO_NOTHING, 0xFE10)).isFalse();
        assertThat(StringprepTables.contains(StringprepTables.NON_ASCII_SPACE, 0x3000)).isTrue();
        assertThat(StringprepTables.contains(StringprepTables.NON_ASCII_SPACE, 0x0020)).isFalse();
        assertThat(StringprepTables.contains(StringprepTables.PROHIBITED, 0x0000)).isTrue();
        assertThat(StringprepTables.contains(StringprepTables.PROHIBITED, 0x007F)).isTrue();
        assertThat(StringprepTables.contains(StringprepTables.PROHIBITED, 0x0020)).isFalse();
        assertThat(StringprepTables.contains(StringprepTables.PROHIBITED, 0xE0001)).isTrue();
        assertThat(StringprepTables.contains(StringprepTables.PROHIBITED, 0x10FFFF)).isTrue();
        assertThat(StringprepTables.contains(StringprepTables.UNASSIGNED, 0x0221)).isTrue();
        assertThat(StringprepTables.contains(StringprepTables.UNASSIGNED, 0x0220)).isFalse();
        assertThat(StringprepTables.contains(StringprepTables.UNASSIGNED, 0xEFFFD)).isTrue();
        assertThat(StringprepTables.contains(StringprepTables.RAND_AL_CAT, 0x05BE)).isTrue();
        assertThat(StringprepTables.contains(StringprepTables.RAND_AL_CAT, 0xFEFC)).isTrue();
        assertThat(StringprepTables.contains(StringprepTables.RAND_AL_CAT, 0x0041)).isFalse();
        assertThat(StringprepTables.contains(StringprepTables.L_CAT, 0x0041)).isTrue();
        assertThat(StringprepTables.contains(StringprepTables.L_CAT, 0x10FFFD)).isTrue();
        assertThat(StringprepTables.contains(StringprepTables.L_CAT, 0x0030)).isFalse();
    }
}
