package dev.pgpolicy.proxy.enforce;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class SearchPathTrackerTest {

    @Test
    void mentionsPathFindsTheNameInAnyCaseAnywhere() {
        assertThat(SearchPathTracker.mentionsPath("SET search_path TO app, public")).isTrue();
        assertThat(SearchPathTracker.mentionsPath("set SEARCH_PATH = app")).isTrue();
        assertThat(SearchPathTracker.mentionsPath("SELECT set_config('Search_Path', 'x', false)")).isTrue();
        assertThat(SearchPathTracker.mentionsPath("search_path")).isTrue();
        assertThat(SearchPathTracker.mentionsPath("SELECT abalance FROM pgbench_accounts WHERE aid = 1")).isFalse();
        assertThat(SearchPathTracker.mentionsPath("SET search-path TO x")).isFalse();
        assertThat(SearchPathTracker.mentionsPath("SET search_pat")).isFalse();
        assertThat(SearchPathTracker.mentionsPath("")).isFalse();
    }

    @Test
    void mentionsPathAgreesWithACaseInsensitiveSearchOnRandomText() {
        // The regular expression it replaced; near misses are drawn from the name's own letters.
        Pattern name = Pattern.compile("(?i)search_path");
        String alphabet = "sSeEaArRcChH_pPtT x";
        Random random = new Random(42);
        int found = 0;
        for (int i = 0; i < 200_000; i++) {
            StringBuilder text = new StringBuilder();
            if (i % 7 == 0) {
                text.append("search_path".substring(0, random.nextInt(12)));
            }
            int length = random.nextInt(24);
            for (int j = 0; j < length; j++) {
                text.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
            if (i % 5 == 0) {
                text.insert(random.nextInt(text.length() + 1), i % 10 == 0 ? "SeArCh_PaTh" : "search_pat");
            }
            boolean expected = name.matcher(text).find();
            found += expected ? 1 : 0;
            assertThat(SearchPathTracker.mentionsPath(text.toString())).as(text.toString()).isEqualTo(expected);
        }
        assertThat(found).as("texts that contain the name").isGreaterThan(10_000);
    }
}
