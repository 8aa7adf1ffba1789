package dev.sluice.proxy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * Headless Chromium driven through chromedriver with the W3C WebDriver protocol (plain HTTP + JSON), so
 * tests can load the status page in a real browser without a Selenium dependency. Needs the Debian
 * packages {@code chromium} and {@code chromium-driver} (bin/install-prereqs).
 */
final class Chromium implements AutoCloseable {
    static final Path BROWSER = Path.of("/usr/bin/chromium");
    static final Path DRIVER = Path.of("/usr/bin/chromedriver");
    private static final String ELEMENT = "element-6066-11e4-a52e-4f735466cecf";

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final ObjectMapper json = new ObjectMapper();
    private final Process driver;
    private final Path profile;
    private final String base;
    private final String session;

    static boolean installed() {
        return Files.isExecutable(BROWSER) && Files.isExecutable(DRIVER);
    }

    Chromium(int width, int height) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        profile = Files.createTempDirectory("sluice-chromium");
        Path log = profile.resolve("chromedriver.log");
        driver = new ProcessBuilder(DRIVER.toString(), "--port=" + port).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        base = "http://127.0.0.1:" + port;
        try {
            awaitReady(log);
            List<String> args = List.of("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                    "--user-data-dir=" + profile.resolve("profile"), "--window-size=" + width + "," + height);
            JsonNode r = call("POST", "/session", Map.of("capabilities", Map.of("alwaysMatch", Map.of(
                    "browserName", "chrome", "goog:chromeOptions", Map.of("binary", BROWSER.toString(), "args", args)))));
            session = r.get("sessionId").asText();
        } catch (Exception | Error e) {
            close();
            throw e;
        }
    }

    private void awaitReady(Path log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try {
                if (call("GET", "/status", null).path("ready").asBoolean()) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            if (!driver.isAlive() || System.nanoTime() > deadline) {
                throw new AssertionError("chromedriver did not become ready: " + Files.readString(log));
            }
            Thread.sleep(100);
        }
    }

    void open(String url) throws Exception {
        call("POST", path("/url"), Map.of("url", url));
    }

    /** Runs {@code script} (a function body; use {@code return}) in the page and returns its value as JSON. */
    JsonNode script(String script, Object... args) throws Exception {
        return call("POST", path("/execute/sync"), Map.of("script", script, "args", List.of(args)));
    }

    /** Polls {@code script} until {@code ok} accepts its value; fails with the last value after {@code timeout}. */
    JsonNode await(String what, String script, Predicate<JsonNode> ok, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        JsonNode v = null;
        while (System.nanoTime() < deadline) {
            v = script(script);
            if (ok.test(v)) {
                return v;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("timed out after " + timeout + " waiting for " + what + "; last value: " + v);
    }

    String find(String css) throws Exception {
        JsonNode v = call("POST", path("/element"), Map.of("using", "css selector", "value", css));
        if (!v.has(ELEMENT)) {
            throw new AssertionError("WebDriver: no element for '" + css + "': " + v);
        }
        return v.get(ELEMENT).asText();
    }

    void click(String css) throws Exception {
        call("POST", path("/element/" + find(css) + "/click"), Map.of());
    }

    void type(String css, String text) throws Exception {
        call("POST", path("/element/" + find(css) + "/value"), Map.of("text", text));
    }

    /** Accepts the confirm() dialog a click opened, waiting for it to appear. */
    void acceptDialog() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try {
                call("POST", path("/alert/accept"), Map.of());
                return;
            } catch (AssertionError noDialogYet) {
                if (System.nanoTime() > deadline) {
                    throw noDialogYet;
                }
                Thread.sleep(100);
            }
        }
    }

    byte[] screenshotPng() throws Exception {
        return Base64.getDecoder().decode(call("GET", path("/screenshot"), null).asText());
    }

    void resize(int width, int height) throws Exception {
        call("POST", path("/window/rect"), Map.of("width", width, "height", height));
    }

    private String path(String p) {
        return "/session/" + session + p;
    }

    /** One WebDriver command; returns its {@code value}, or fails with the driver's error. */
    private JsonNode call(String method, String p, Object body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + p)).timeout(Duration.ofSeconds(60));
        if (body == null) {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofByteArray(json.writeValueAsBytes(body)));
        }
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        JsonNode v = json.readTree(r.body()).path("value");
        if (r.statusCode() != 200) {
            throw new AssertionError("WebDriver " + method + " " + p + " -> " + r.statusCode() + ": " + v.path("error").asText()
                    + ": " + v.path("message").asText());
        }
        return v;
    }

    @Override
    public void close() {
        if (session != null) {
            try {
                call("DELETE", path(""), null);
            } catch (Exception ignored) {
                // the driver is stopped next anyway
            }
        }
        driver.destroy();
        try {
            if (!driver.waitFor(10, TimeUnit.SECONDS)) {
                driver.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try (Stream<Path> files = Files.walk(profile)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException ignored) {
            // a temp directory
        }
    }
}
