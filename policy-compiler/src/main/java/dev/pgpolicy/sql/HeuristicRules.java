package dev.pgpolicy.sql;

import java.util.EnumSet;
import java.util.Set;

/** The name lists behind the heuristics of LANGUAGE.md, in one place so that a review sees them all. */
final class HeuristicRules {
    static final Set<String> CATALOG_SCHEMAS = Set.of("pg_catalog", "information_schema");

    /** pg_sleep, pg_sleep_for and pg_sleep_until: the time-based blind injection probes. */
    static final Set<String> SLEEP_FUNCTIONS = Set.of("pg_sleep", "pg_sleep_for", "pg_sleep_until");

    /**
     * Server-side file access: the generic file functions (PostgreSQL docs 9.27.9), large-object
     * import and export (which read and write server files), and adminpack's writers.
     */
    static final Set<String> FILE_FUNCTIONS = Set.of(
            "pg_read_file", "pg_read_binary_file", "pg_ls_dir", "pg_stat_file",
            "pg_ls_logdir", "pg_ls_waldir", "pg_ls_tmpdir", "pg_ls_archive_statusdir",
            "pg_ls_logicalsnapdir", "pg_ls_logicalmapdir", "pg_ls_replslotdir",
            "lo_import", "lo_export",
            "pg_file_write", "pg_file_rename", "pg_file_unlink", "pg_file_sync", "pg_logdir_ls");

    /** Functions an attacker calls to fingerprint the server. */
    static final Set<String> CATALOG_FUNCTIONS = Set.of("version", "inet_server_addr", "inet_server_port",
            "pg_postmaster_start_time", "pg_conf_load_time");

    /** Settings that reveal the server's file layout, secrets or privileges (PostgreSQL docs, chapter 20). */
    static final Set<String> SENSITIVE_SETTINGS = Set.of(
            "data_directory", "config_file", "hba_file", "ident_file", "external_pid_file",
            "ssl_cert_file", "ssl_key_file", "ssl_ca_file", "ssl_crl_file", "ssl_crl_dir",
            "ssl_passphrase_command", "archive_command", "archive_library", "restore_command",
            "archive_cleanup_command", "recovery_end_command", "log_directory", "log_filename",
            "unix_socket_directories", "unix_socket_group", "listen_addresses", "port",
            "shared_preload_libraries", "session_preload_libraries", "local_preload_libraries",
            "dynamic_library_path", "krb_server_keyfile", "server_version", "server_version_num",
            "is_superuser", "primary_conninfo", "all");

    /**
     * Procedural languages that run with the server's operating-system privileges: the "u"
     * (untrusted) variants shipped with PostgreSQL, C and internal functions, and common
     * third-party untrusted languages.
     */
    static final Set<String> UNTRUSTED_LANGUAGES = Set.of(
            "c", "internal", "plpythonu", "plpython2u", "plpython3u", "plperlu", "pltclu",
            "plsh", "pljavau", "plr", "plrustu", "plluau");

    private HeuristicRules() {
    }

    /**
     * pg_catalog and information_schema relations, and unqualified {@code pg_*} names: pg_catalog
     * is implicitly first on every search_path, so {@code pg_shadow} and {@code pg_authid} resolve
     * there whatever the path says.
     */
    static boolean isCatalogRelation(ObjectName table) {
        if (table.schema() != null) {
            return CATALOG_SCHEMAS.contains(table.schema());
        }
        return table.name().startsWith("pg_");
    }

    static Set<Heuristic> forFunction(ObjectName function) {
        Set<Heuristic> findings = EnumSet.noneOf(Heuristic.class);
        if (function.schema() != null && !"pg_catalog".equals(function.schema())) {
            return findings;
        }
        String name = function.name();
        if (SLEEP_FUNCTIONS.contains(name)) {
            findings.add(Heuristic.SLEEP);
        }
        if (FILE_FUNCTIONS.contains(name)) {
            findings.add(Heuristic.FILE_ACCESS);
        }
        if (CATALOG_FUNCTIONS.contains(name)) {
            findings.add(Heuristic.CATALOG_PROBE);
        }
        return findings;
    }
}
