package dev.pgpolicy.proxy.identity;

import dev.pgpolicy.proxy.identity.YamlTree.Entry;
import dev.pgpolicy.proxy.identity.YamlTree.ListNode;
import dev.pgpolicy.proxy.identity.YamlTree.Location;
import dev.pgpolicy.proxy.identity.YamlTree.MapNode;
import dev.pgpolicy.proxy.identity.YamlTree.Node;
import dev.pgpolicy.proxy.identity.YamlTree.ScalarNode;
import dev.pgpolicy.proxy.scram.ScramVerifier;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * One loaded, validated users file (DESIGN.md, "Identity and authentication"): an immutable
 * snapshot of users and upstream accounts.
 * <pre>
 * users:
 *   ana: { scram: "SCRAM-SHA-256$4096:...", groups: [bi_readers], upstream: analyst_ro,
 *          auth: password|cert|both, cert_cn: "ana.example" }
 * accounts:
 *   analyst_ro: { user: analyst_ro, password_file: secrets/analyst_ro }   # or password_env: NAME
 * </pre>
 * {@link #load} reports every problem at once as {@code file:line:col} diagnostics and refuses the
 * file on any error (fail closed: a typo must not grant or drop access silently); warnings
 * (a world-readable password file, an unused account) ride along in {@link #warnings()}.
 */
public final class UsersFile {
    /** Far beyond any real users file; a wrong path to a huge file fails fast instead of filling memory. */
    static final int MAX_FILE_BYTES = 16 * 1024 * 1024;
    /** A password file holds one password; anything this large is the wrong file. */
    static final int MAX_PASSWORD_FILE_BYTES = 64 * 1024;
    /** PostgreSQL truncates role names to NAMEDATALEN - 1 bytes; a longer name could never match. */
    static final int MAX_NAME_BYTES = 63;

    private static final Set<String> TOP_KEYS = Set.of("users", "accounts");
    private static final Set<String> USER_KEYS = Set.of("scram", "groups", "upstream", "auth", "cert_cn");
    private static final Set<String> ACCOUNT_KEYS = Set.of("user", "password_file", "password_env");

    private final Path source;
    private final Map<String, UserEntry> users;
    private final Map<String, UpstreamAccount> accounts;
    private final List<Diagnostic> warnings;
    private final String digest;

    private UsersFile(Path source, Map<String, UserEntry> users, Map<String, UpstreamAccount> accounts,
                      List<Diagnostic> warnings, String digest) {
        this.source = source;
        this.users = Map.copyOf(users);
        this.accounts = Map.copyOf(accounts);
        this.warnings = List.copyOf(warnings);
        this.digest = digest;
    }

    /** Loads {@code file}, reading {@code password_env} variables from the process environment. */
    public static UsersFile load(Path file) throws UsersFileException {
        return load(file, System::getenv);
    }

    /** Loads {@code file}; {@code environment} resolves {@code password_env} names (null = unset). */
    public static UsersFile load(Path file, Function<String, String> environment) throws UsersFileException {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(environment, "environment");
        byte[] content = readFile(file);
        Node root;
        try {
            root = YamlTree.parse(content);
        } catch (YamlTree.YamlException e) {
            throw new UsersFileException(List.of(Diagnostic.error(file, e.location(), e.getMessage())));
        }
        Loader loader = new Loader(file, environment);
        UsersFile loaded = loader.build(root, sha256(content));
        if (loader.diagnostics.stream().anyMatch(Diagnostic::isError)) {
            throw new UsersFileException(loader.diagnostics);
        }
        return loaded;
    }

    public Path source() {
        return source;
    }

    public Optional<UserEntry> user(String name) {
        return Optional.ofNullable(users.get(name));
    }

    public Map<String, UserEntry> users() {
        return users;
    }

    public Map<String, UpstreamAccount> accounts() {
        return accounts;
    }

    /** The service account {@code user} logs in upstream with. */
    public UpstreamAccount accountFor(UserEntry user) {
        UpstreamAccount account = accounts.get(user.upstream());
        if (account == null) {
            // load() refuses files with dangling references, so this is a programming error.
            throw new IllegalStateException("user " + user.name() + " maps to unknown account " + user.upstream());
        }
        return account;
    }

    public List<Diagnostic> warnings() {
        return warnings;
    }

    /** SHA-256 of the file's bytes, for logs and the admin API. */
    public String digest() {
        return digest;
    }

    /**
     * The iteration count most verifiers use (4096 if none): unknown users get mock verifiers with
     * this count, so the server-first-message does not tell them apart.
     */
    public int typicalIterations() {
        Map<Integer, Integer> counts = new HashMap<>();
        for (UserEntry user : users.values()) {
            user.scram().ifPresent(v -> counts.merge(v.iterations(), 1, Integer::sum));
        }
        return counts.entrySet().stream()
                .max(Map.Entry.<Integer, Integer>comparingByValue().thenComparing(Map.Entry.comparingByKey()))
                .map(Map.Entry::getKey)
                .orElse(ScramVerifier.DEFAULT_ITERATIONS);
    }

    @Override
    public String toString() {
        return "UsersFile[" + source + ", " + users.size() + " users, " + accounts.size() + " accounts, sha256="
                + digest.substring(0, 12) + "]";
    }

    private static byte[] readFile(Path file) throws UsersFileException {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] content = in.readNBytes(MAX_FILE_BYTES + 1);
            if (content.length > MAX_FILE_BYTES) {
                throw new UsersFileException(List.of(new Diagnostic(file, 1, 1, Diagnostic.Severity.ERROR,
                        "file larger than " + MAX_FILE_BYTES + " bytes; is this the users file?")));
            }
            return content;
        } catch (NoSuchFileException e) {
            throw new UsersFileException(List.of(new Diagnostic(file, 1, 1, Diagnostic.Severity.ERROR, "no such file")));
        } catch (IOException e) {
            throw new UsersFileException(List.of(new Diagnostic(file, 1, 1, Diagnostic.Severity.ERROR,
                    "cannot read: " + e.getMessage())));
        }
    }

    private static String sha256(byte[] content) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is a mandatory JCA algorithm", e);
        }
    }

    /** Walks the tree once, collecting every diagnostic. */
    private static final class Loader {
        private final Path file;
        private final Function<String, String> environment;
        private final List<Diagnostic> diagnostics = new ArrayList<>();

        Loader(Path file, Function<String, String> environment) {
            this.file = file;
            this.environment = environment;
        }

        UsersFile build(Node root, String digest) {
            Map<String, UserEntry> users = new LinkedHashMap<>();
            Map<String, UpstreamAccount> accounts = new LinkedHashMap<>();
            Map<String, Location> accountLocations = new HashMap<>();
            Map<String, Location> upstreamReferences = new LinkedHashMap<>();
            Optional<MapNode> top = mapping(root, "the users file");
            if (top.isEmpty()) {
                return new UsersFile(file, users, accounts, diagnostics, digest);
            }
            unknownKeys(top.get(), TOP_KEYS, "top level");
            Optional<Entry> accountsEntry = top.get().get("accounts");
            if (accountsEntry.isPresent()) {
                mapping(accountsEntry.get().value(), "accounts").ifPresent(section -> {
                    for (Entry entry : section.entries().values()) {
                        accountLocations.put(entry.key(), entry.keyLocation());
                        account(entry).ifPresent(a -> accounts.put(a.name(), a));
                    }
                });
            }
            Optional<Entry> usersEntry = top.get().get("users");
            if (usersEntry.isEmpty()) {
                error(top.get().location(), "missing \"users:\" section");
            } else {
                mapping(usersEntry.get().value(), "users").ifPresent(section -> {
                    for (Entry entry : section.entries().values()) {
                        user(entry, accountLocations.keySet(), upstreamReferences)
                                .ifPresent(u -> users.put(u.name(), u));
                    }
                });
            }
            Set<String> used = new LinkedHashSet<>();
            for (UserEntry user : users.values()) {
                used.add(user.upstream());
            }
            for (Map.Entry<String, Location> account : accountLocations.entrySet()) {
                if (!used.contains(account.getKey()) && !upstreamReferences.containsKey(account.getKey())) {
                    warning(account.getValue(), "account \"" + account.getKey() + "\" is not used by any user");
                }
            }
            diagnostics.sort((a, b) -> a.line() != b.line() ? Integer.compare(a.line(), b.line())
                    : Integer.compare(a.column(), b.column()));
            List<Diagnostic> warnings = diagnostics.stream().filter(d -> !d.isError()).toList();
            return new UsersFile(file, users, accounts, warnings, digest);
        }

        private Optional<UserEntry> user(Entry entry, Set<String> accountNames, Map<String, Location> references) {
            String name = entry.key();
            int errorsBefore = errorCount();
            checkName(entry.keyLocation(), name, "user");
            Optional<MapNode> fields = mapping(entry.value(), "user \"" + name + "\"");
            if (fields.isEmpty()) {
                return Optional.empty();
            }
            MapNode map = fields.get();
            unknownKeys(map, USER_KEYS, "user \"" + name + "\"");

            AuthMethod auth = AuthMethod.PASSWORD;
            Optional<Entry> authEntry = map.get("auth");
            if (authEntry.isPresent()) {
                Optional<String> text = scalar(authEntry.get(), "auth");
                if (text.isPresent()) {
                    Optional<AuthMethod> method = AuthMethod.fromConfig(text.get());
                    if (method.isEmpty()) {
                        error(authEntry.get().value().location(), "auth must be password, cert or both");
                    } else {
                        auth = method.get();
                    }
                }
            }

            Optional<ScramVerifier> scram = Optional.empty();
            Optional<Entry> scramEntry = map.get("scram");
            if (scramEntry.isPresent()) {
                Optional<String> text = scalar(scramEntry.get(), "scram");
                if (text.isPresent()) {
                    try {
                        ScramVerifier verifier = ScramVerifier.parse(text.get());
                        scram = Optional.of(verifier);
                        if (verifier.iterations() < ScramVerifier.DEFAULT_ITERATIONS) {
                            warning(scramEntry.get().value().location(), "verifier of user \"" + name + "\" uses "
                                    + verifier.iterations() + " iterations; RFC 7677 asks for at least 4096");
                        }
                    } catch (ScramVerifier.FormatException e) {
                        error(scramEntry.get().value().location(), "user \"" + name + "\": " + e.getMessage());
                    }
                }
                if (!auth.needsPassword()) {
                    warning(scramEntry.get().keyLocation(), "user \"" + name + "\" authenticates by certificate only; "
                            + "its scram verifier is not used");
                }
            } else if (auth.needsPassword()) {
                error(entry.keyLocation(), "user \"" + name + "\" needs a \"scram:\" verifier (auth " + auth.configName()
                        + "); make one with `pgpolicy hash-password`");
            }

            List<String> groups = new ArrayList<>();
            map.get("groups").ifPresent(groupsEntry -> {
                Node node = groupsEntry.value();
                if (!(node instanceof ListNode list)) {
                    error(node.location(), "groups of user \"" + name + "\" must be a list, not " + node.kind());
                    return;
                }
                for (Node item : list.items()) {
                    if (!(item instanceof ScalarNode scalar) || scalar.text() == null || scalar.text().isBlank()) {
                        error(item.location(), "group names must be non-empty strings");
                    } else if (groups.contains(scalar.text())) {
                        error(item.location(), "group \"" + scalar.text() + "\" listed twice");
                    } else {
                        groups.add(scalar.text());
                    }
                }
            });

            String upstream = null;
            Optional<Entry> upstreamEntry = map.get("upstream");
            if (upstreamEntry.isEmpty()) {
                error(entry.keyLocation(), "user \"" + name + "\" has no \"upstream:\" account");
            } else {
                Optional<String> text = scalar(upstreamEntry.get(), "upstream");
                if (text.isPresent()) {
                    references.put(text.get(), upstreamEntry.get().value().location());
                    if (!accountNames.contains(text.get())) {
                        error(upstreamEntry.get().value().location(), "user \"" + name + "\" maps to unknown account \""
                                + text.get() + "\" (not in \"accounts:\")");
                    } else {
                        upstream = text.get();
                    }
                }
            }

            Optional<String> certCn = Optional.empty();
            Optional<Entry> certEntry = map.get("cert_cn");
            if (certEntry.isPresent()) {
                certCn = scalar(certEntry.get(), "cert_cn");
                if (!auth.needsCertificate()) {
                    warning(certEntry.get().keyLocation(), "user \"" + name + "\" authenticates by password only; "
                            + "cert_cn is not used");
                }
            }

            if (errorCount() > errorsBefore || upstream == null) {
                return Optional.empty();
            }
            return Optional.of(new UserEntry(name, scram, groups, upstream, auth, certCn));
        }

        private Optional<UpstreamAccount> account(Entry entry) {
            String name = entry.key();
            int errorsBefore = errorCount();
            checkName(entry.keyLocation(), name, "account");
            Optional<MapNode> fields = mapping(entry.value(), "account \"" + name + "\"");
            if (fields.isEmpty()) {
                return Optional.empty();
            }
            MapNode map = fields.get();
            unknownKeys(map, ACCOUNT_KEYS, "account \"" + name + "\"");
            Optional<String> user = Optional.empty();
            Optional<Entry> userEntry = map.get("user");
            if (userEntry.isEmpty()) {
                error(entry.keyLocation(), "account \"" + name + "\" has no \"user:\" (the PostgreSQL role)");
            } else {
                user = scalar(userEntry.get(), "user");
                user.ifPresent(u -> checkName(userEntry.get().value().location(), u, "role"));
            }
            Optional<Entry> fileEntry = map.get("password_file");
            Optional<Entry> envEntry = map.get("password_env");
            Optional<Secret> password = Optional.empty();
            String source = null;
            if (fileEntry.isPresent() == envEntry.isPresent()) {
                error(entry.keyLocation(), "account \"" + name + "\" needs exactly one of password_file and password_env");
            } else if (fileEntry.isPresent()) {
                Optional<String> path = scalar(fileEntry.get(), "password_file");
                if (path.isPresent()) {
                    Path resolved = resolve(path.get());
                    source = "file " + resolved;
                    password = passwordFromFile(fileEntry.get().value().location(), name, resolved);
                }
            } else {
                Optional<String> variable = scalar(envEntry.get(), "password_env");
                if (variable.isPresent()) {
                    source = "env " + variable.get();
                    String value = environment.apply(variable.get());
                    if (value == null || value.isEmpty()) {
                        error(envEntry.get().value().location(), "environment variable " + variable.get()
                                + " for account \"" + name + "\" is not set or empty");
                    } else {
                        char[] chars = value.toCharArray();
                        password = Optional.of(new Secret(chars));
                        Arrays.fill(chars, '\0');
                    }
                }
            }
            if (errorCount() > errorsBefore || user.isEmpty() || password.isEmpty()) {
                return Optional.empty();
            }
            return Optional.of(new UpstreamAccount(name, user.get(), password.get(), source));
        }

        private Optional<Secret> passwordFromFile(Location at, String account, Path path) {
            byte[] content = null;
            CharBuffer decoded = null;
            try {
                if (!Files.isRegularFile(path)) {
                    error(at, "password file " + path + " of account \"" + account + "\" "
                            + (Files.exists(path) ? "is not a regular file" : "does not exist"));
                    return Optional.empty();
                }
                if (Files.size(path) > MAX_PASSWORD_FILE_BYTES) {
                    error(at, "password file " + path + " is larger than " + MAX_PASSWORD_FILE_BYTES + " bytes");
                    return Optional.empty();
                }
                worldReadable(path).ifPresent(mode -> warning(at, "password file " + path + " is readable by every "
                        + "local user (" + mode + "); chmod 600 it"));
                content = Files.readAllBytes(path);
                int length = content.length;
                // One line: a single trailing newline (as `echo` writes) is not part of the password.
                if (length > 0 && content[length - 1] == '\n') {
                    length--;
                    if (length > 0 && content[length - 1] == '\r') {
                        length--;
                    }
                }
                for (int i = 0; i < length; i++) {
                    if (content[i] == '\n' || content[i] == '\r' || content[i] == 0) {
                        error(at, "password file " + path + " must hold the password on one line");
                        return Optional.empty();
                    }
                }
                if (length == 0) {
                    error(at, "password file " + path + " of account \"" + account + "\" is empty");
                    return Optional.empty();
                }
                decoded = StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(ByteBuffer.wrap(content, 0, length));
                char[] chars = new char[decoded.remaining()];
                decoded.get(chars);
                Secret secret = new Secret(chars);
                Arrays.fill(chars, '\0');
                return Optional.of(secret);
            } catch (CharacterCodingException e) {
                error(at, "password file " + path + " is not valid UTF-8");
                return Optional.empty();
            } catch (IOException e) {
                error(at, "cannot read password file " + path + " of account \"" + account + "\": " + e.getClass().getSimpleName());
                return Optional.empty();
            } finally {
                if (content != null) {
                    Arrays.fill(content, (byte) 0);
                }
                if (decoded != null && decoded.hasArray()) {
                    Arrays.fill(decoded.array(), '\0');
                }
            }
        }

        private static Optional<String> worldReadable(Path path) throws IOException {
            PosixFileAttributeView view = Files.getFileAttributeView(path, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
            if (view == null) {
                return Optional.empty();
            }
            Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(path);
            return permissions.contains(PosixFilePermission.OTHERS_READ)
                    ? Optional.of(java.nio.file.attribute.PosixFilePermissions.toString(permissions))
                    : Optional.empty();
        }

        private Path resolve(String path) {
            Path given = Path.of(path);
            Path parent = file.toAbsolutePath().getParent();
            return given.isAbsolute() || parent == null ? given : parent.resolve(given).normalize();
        }

        private void checkName(Location at, String name, String what) {
            if (name.isEmpty()) {
                error(at, what + " name must not be empty");
            } else if (name.indexOf('\0') >= 0) {
                error(at, what + " name must not contain NUL");
            } else if (name.getBytes(StandardCharsets.UTF_8).length > MAX_NAME_BYTES) {
                error(at, what + " name \"" + name + "\" is longer than " + MAX_NAME_BYTES
                        + " bytes; PostgreSQL would truncate it");
            }
        }

        private Optional<MapNode> mapping(Node node, String what) {
            if (node instanceof MapNode map) {
                return Optional.of(map);
            }
            if (node instanceof ScalarNode scalar && scalar.text() == null) {
                return Optional.of(new MapNode(node.location(), Map.of()));
            }
            error(node.location(), what + " must be a mapping, not " + node.kind());
            return Optional.empty();
        }

        private Optional<String> scalar(Entry entry, String key) {
            Node node = entry.value();
            if (node instanceof ScalarNode scalar && scalar.text() != null && !scalar.text().isEmpty()) {
                return Optional.of(scalar.text());
            }
            error(node.location(), key + " must be a non-empty string, not " + node.kind());
            return Optional.empty();
        }

        private void unknownKeys(MapNode map, Set<String> known, String where) {
            for (Entry entry : map.entries().values()) {
                if (!known.contains(entry.key())) {
                    error(entry.keyLocation(), "unknown key \"" + entry.key() + "\" in " + where
                            + " (expected one of " + String.join(", ", known.stream().sorted().toList()) + ")");
                }
            }
        }

        private int errorCount() {
            return (int) diagnostics.stream().filter(Diagnostic::isError).count();
        }

        private void error(Location at, String message) {
            diagnostics.add(Diagnostic.error(file, at, message));
        }

        private void warning(Location at, String message) {
            diagnostics.add(Diagnostic.warning(file, at, message));
        }
    }
}
