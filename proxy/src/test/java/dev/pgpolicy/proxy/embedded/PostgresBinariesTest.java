package dev.pgpolicy.proxy.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PostgresBinariesTest {

    @Test
    void locatesAServerInstallationWithItsClients() {
        PostgresBinaries binaries = PostgresBinaries.locate();

        assertThat(binaries.initdb()).isExecutable();
        assertThat(binaries.pgCtl()).isExecutable();
        assertThat(binaries.psql()).isExecutable().hasParent(binaries.directory());
        assertThat(binaries.pgbench()).isExecutable().hasParent(binaries.directory());
        assertThat(binaries.version()).startsWith("postgres (PostgreSQL) ");
    }

    @Test
    void anExplicitDirectoryThatLacksTheServerIsAnErrorNotAGuess(@TempDir Path empty) {
        String previous = System.getProperty("pgpolicy.postgres.bindir");
        System.setProperty("pgpolicy.postgres.bindir", empty.toString());
        try {
            assertThatThrownBy(PostgresBinaries::locate)
                    .isInstanceOf(EmbeddedPostgresException.class)
                    .hasMessageContaining(empty.toString())
                    .hasMessageContaining("initdb");
        } finally {
            if (previous == null) {
                System.clearProperty("pgpolicy.postgres.bindir");
            } else {
                System.setProperty("pgpolicy.postgres.bindir", previous);
            }
        }
    }

    @Test
    void missingClientToolIsNamed(@TempDir Path directory) throws Exception {
        for (String program : new String[] {"initdb", "pg_ctl", "postgres"}) {
            Path file = Files.createFile(directory.resolve(program));
            file.toFile().setExecutable(true);
        }
        PostgresBinaries serverOnly = PostgresBinaries.at(directory);

        assertThatThrownBy(serverOnly::pgbench)
                .isInstanceOf(EmbeddedPostgresException.class)
                .hasMessageContaining("pgbench not found in " + directory);
    }
}
