package dev.sluice.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.core.failover.FailoverResult;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The admin API over HTTPS (with the proxy's own self-signed certificate) and the promise that secrets are
 * never logged: everything the JVM logs while a proxy starts, is logged in to (right and wrong passwords,
 * a lock-out, TLS), is steered over the admin API (right and wrong token) and stops is scanned for the
 * configured passwords, the admin token, the SCRAM verifiers and md5 hashes, and the TLS key.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SecurityIT {
    static final String TOKEN = "adm1n-T0ken-7f3c9e";
    static final String WRONG_TOKEN = "wr0ng-T0ken-51ab";
    static final List<String> WRONG_PASSWORDS = List.of("Gu3ss-one-8812", "Gu3ss-two-8812", "Gu3ss-three-8812");

    @TempDir
    static Path dir;
    static Path cert;
    static Path key;
    static LogCapture log;
    static ProxyFixture f;
    static String configText;

    @BeforeAll
    static void start() throws Exception {
        String openssl = ClientTools.require("openssl", "apt-get install openssl");
        cert = dir.resolve("cert.pem");
        key = dir.resolve("key.pem");
        // an IP subject alternative name, so a client checking host names accepts https://127.0.0.1
        ProxyFixture.Run r = ProxyFixture.run(List.of(openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key.toString(),
                "-out", cert.toString(), "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"),
                java.util.Map.of(), null, Duration.ofSeconds(120));
        assertEquals(0, r.exit(), "openssl: " + r.err());
        log = new LogCapture();
        f = ProxyFixture.start("security-pg", 0, null, "  tls-cert: " + cert + "\n  tls-key: " + key + "\n  admin-tls: true\n"
                + "  auth: md5\n  auth-failure-limit: 3\n", y -> y.replace("admin-token: test-token", "admin-token: " + TOKEN));
        configText = Files.readString(f.config);
        assertTrue(configText.contains(TOKEN));
    }

    @AfterAll
    static void stop() {
        if (f != null) {
            f.close();
        }
        if (log != null) {
            log.close();
        }
    }

    static String adminUrl() {
        return "https://127.0.0.1:" + f.server.adminAddress().getPort();
    }

    static int cli(String... args) {
        return new CommandLine(new SluiceCli()).execute(args);
    }

    @Test
    @Order(1)
    void adminApiServesHttpsWithTheProxyCertificateAndRefusesPlainHttp() throws Exception {
        AdminClient client = new AdminClient(adminUrl(), TOKEN, Pem.trusting(cert));
        assertEquals(1, client.clusterStatus().nodes().size());
        // a mutating call with the token: a dry-run switchover with no replica is refused (409), but authorized
        FailoverResult dry = client.switchover(null, true);
        assertFalse(dry.promoted(), dry.toString());
        AdminCallException denied = assertThrows(AdminCallException.class,
                () -> new AdminClient(adminUrl(), WRONG_TOKEN, Pem.trusting(cert)).switchover(null, true));
        assertEquals(401, denied.status(), denied.getMessage());

        // the CLI: --cacert with the self-signed certificate, or --insecure; without either the JDK does not trust it
        assertEquals(0, cli("status", "--admin", adminUrl(), "--cacert", cert.toString()));
        assertEquals(0, cli("status", "--admin", adminUrl(), "--insecure"));
        assertNotEquals(0, cli("status", "--admin", adminUrl()));
        assertEquals(2, cli("status", "--admin", adminUrl(), "--insecure", "--cacert", cert.toString()));

        // plain HTTP to the HTTPS port gets no HTTP answer
        HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        HttpRequest get = HttpRequest.newBuilder(URI.create(adminUrl().replace("https:", "http:") + "/status"))
                .timeout(Duration.ofSeconds(20)).build();
        assertThrows(IOException.class, () -> plain.send(get, HttpResponse.BodyHandlers.ofString()));
    }

    static Connection connect(String user, String password) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        p.setProperty("password", password);
        p.setProperty("sslmode", "require");
        p.setProperty("connectTimeout", "20");
        return DriverManager.getConnection(f.jdbcUrl(), p);
    }

    @Test
    @Order(2)
    void loginsRightWrongAndLockedOut() throws Exception {
        try (Connection c = connect(ProxyFixture.USER, ProxyFixture.PASSWORD); ResultSet rs = c.createStatement().executeQuery("SELECT 1")) {
            assertTrue(rs.next()); // the proxy logged in to the backend with the cluster's password
        }
        try (Connection c = connect(ProxyFixture.MD5_USER, ProxyFixture.MD5_PASSWORD)) {
            assertTrue(c.isValid(10));
        }
        List<String> users = List.of(ProxyFixture.USER, ProxyFixture.MD5_USER, "nobody-here");
        for (int i = 0; i < WRONG_PASSWORDS.size(); i++) {
            String user = users.get(i);
            String pw = WRONG_PASSWORDS.get(i);
            SQLException e = assertThrows(SQLException.class, () -> connect(user, pw).close());
            assertEquals("28P01", e.getSQLState(), e.getMessage());
        }
        SQLException locked = assertThrows(SQLException.class, () -> connect(ProxyFixture.USER, ProxyFixture.PASSWORD).close());
        assertEquals("28000", locked.getSQLState(), locked.getMessage());
    }

    /** The configured secrets, from the config file itself, and the pieces a careless log line could show. */
    static List<String> secrets() throws IOException {
        List<String> s = new ArrayList<>(List.of(ProxyFixture.PASSWORD, ProxyFixture.MD5_PASSWORD, f.cluster.password(), TOKEN, WRONG_TOKEN));
        s.addAll(WRONG_PASSWORDS);
        Matcher scram = Pattern.compile("SCRAM-SHA-256\\$(\\d+):([^$\"]+)\\$([^:\"]+):([^\"]+)").matcher(configText);
        int verifiers = 0;
        while (scram.find()) {
            verifiers++;
            s.add(scram.group(0));
            s.add(scram.group(2)); // salt
            s.add(scram.group(3)); // StoredKey
            s.add(scram.group(4)); // ServerKey
        }
        assertEquals(1, verifiers, configText);
        Matcher md5 = Pattern.compile("md5[0-9a-f]{32}").matcher(configText);
        assertTrue(md5.find(), configText);
        s.add(md5.group());
        s.add(md5.group().substring(3));
        for (String line : Files.readAllLines(key)) {
            if (!line.startsWith("-----")) {
                s.add(line);
            }
        }
        return s;
    }

    @Test
    @Order(3)
    void noSecretIsEverLogged() throws Exception {
        List<String> secrets = secrets();
        f.close(); // shutdown logging included
        f = null;
        String text = log.text();
        // the capture worked and saw the scenario
        for (String expected : List.of("Sluice proxy up", "admin API listening on https://", "POST /switchover", "authentication failed for user",
                "its logins are refused")) {
            assertTrue(text.contains(expected), "captured log lacks '" + expected + "':\n" + text);
        }
        for (String secret : secrets) {
            assertFalse(text.contains(secret), "a secret (" + secret.length() + " characters, starting "
                    + secret.substring(0, Math.min(3, secret.length())) + ") was logged:\n" + text);
        }
    }
}
