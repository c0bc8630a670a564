package dev.pgpolicy.proxy.wire;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The wire package stands alone (DESIGN.md): the fuzz module and offline tools use it without the
 * rest of the proxy, so its sources may import only the JDK, Netty and itself.
 */
class WirePackageBoundaryTest {
    private static final Path SOURCES = Path.of("src/main/java/dev/pgpolicy/proxy/wire");

    @Test
    void importsOnlyTheJdkAndNetty() throws IOException {
        assertThat(SOURCES).isDirectory();
        List<String> offending;
        try (Stream<Path> files = Files.list(SOURCES)) {
            offending = files.filter(f -> f.toString().endsWith(".java"))
                    .flatMap(WirePackageBoundaryTest::imports)
                    .filter(i -> !i.startsWith("java.") && !i.startsWith("io.netty."))
                    .collect(Collectors.toList());
        }
        assertThat(offending).isEmpty();
    }

    @Test
    void fullyQualifiedReferencesStayInsideToo() throws IOException {
        try (Stream<Path> files = Files.list(SOURCES)) {
            List<Path> offending = files.filter(f -> read(f).matches("(?s).*\\bdev\\.pgpolicy\\.(?!proxy\\.wire\\b).*"))
                    .collect(Collectors.toList());
            assertThat(offending).isEmpty();
        }
    }

    private static Stream<String> imports(Path file) {
        return read(file).lines()
                .filter(line -> line.startsWith("import "))
                .map(line -> line.replaceFirst("^import (static )?", "").replace(";", "").trim());
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
