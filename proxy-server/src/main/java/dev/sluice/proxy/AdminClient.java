package dev.sluice.proxy;

import dev.sluice.admin.AdminJson;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.core.failover.FailoverResult;
import dev.sluice.core.health.ClusterStatus;
import dev.sluice.jdbc.SluiceAdmin;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * The CLI's way to a running proxy: a {@link SluiceAdmin} that forwards each call to the proxy's admin API
 * (docs/admin-api.md), so the commands behave the same against a config file or a proxy. Refusals come
 * back as they do from the driver (a FailoverResult not promoted; IllegalStateException for a drain);
 * anything else is an {@link AdminCallException} naming the URL.
 */
public final class AdminClient implements SluiceAdmin {
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(30);
    /** A switchover waits for replicas to catch up and holds writes: bounded on the proxy, generous here. */
    private static final Duration OPERATION_TIMEOUT = Duration.ofMinutes(10);

    private final String base;
    private final String token;
    private final HttpClient http;
    private final ObjectMapper json = AdminJson.mapper();

    /**
     * @param url   the admin API's base URL, e.g. {@code http://127.0.0.1:6480}
     * @param token the bearer token for the mutating endpoints; null sends none
     * @throws IllegalArgumentException when {@code url} is not an http(s) URL with a host
     */
    public AdminClient(String url, String token) {
        this(url, token, null);
    }

    /**
     * @param tls for an {@code https} URL: the TLS context to use ({@code --cacert}, {@code --insecure}); null for the
     *            JDK's default trust store
     */
    public AdminClient(String url, String token, javax.net.ssl.SSLContext tls) {
        this.base = checkedBase(url);
        this.token = token == null || token.isBlank() ? null : token; // an empty SLUICE_ADMIN_TOKEN means none
        HttpClient.Builder b = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(CONNECT_TIMEOUT);
        if (tls != null) {
            b.sslContext(tls);
        }
        this.http = b.build();
    }

    private static String checkedBase(String url) {
        try {
            URI u = new URI(url);
            if (("http".equals(u.getScheme()) || "https".equals(u.getScheme())) && u.getHost() != null
                    && u.getRawQuery() == null && u.getRawFragment() == null) {
                return url.replaceAll("/+$", "");
            }
        } catch (URISyntaxException e) {
            // same message as any other malformed value
        }
        throw new IllegalArgumentException("--admin '" + url + "': expected the admin API's URL, e.g. http://127.0.0.1:6480 or https://…");
    }

    @Override
    public ClusterStatus clusterStatus() {
        return parse(call("GET", "/status", READ_TIMEOUT), ClusterStatus.class);
    }

    @Override
    public void drain(String node, boolean drained) {
        HttpResponse<String> r = call("POST", (drained ? "/drain" : "/undrain") + "?node=" + enc(node), READ_TIMEOUT);
        if (r.statusCode() == 409) {
            throw new IllegalStateException(errorOf(r));
        }
    }

    @Override
    public FailoverResult promote(String node, boolean force) {
        return result(call("POST", "/promote?force=" + force + (node == null ? "" : "&node=" + enc(node)), OPERATION_TIMEOUT));
    }

    @Override
    public FailoverResult switchover(String node, boolean dryRun) {
        return result(call("POST", "/switchover?dryRun=" + dryRun + (node == null ? "" : "&to=" + enc(node)), OPERATION_TIMEOUT));
    }

    /** The base URL, for messages. */
    String url() {
        return base;
    }

    /** 409 carries the refused result, with its steps: the same outcome the driver returns. */
    private FailoverResult result(HttpResponse<String> r) {
        return parse(r, FailoverResult.class);
    }

    /** Sends the request; returns only 200 and 409 answers, throws for the rest. */
    private HttpResponse<String> call(String method, String pathAndQuery, Duration timeout) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + pathAndQuery)).timeout(timeout)
                .method(method, HttpRequest.BodyPublishers.noBody()).header("Accept", "application/json");
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        HttpResponse<String> r;
        try {
            r = http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new AdminCallException(AdminCallException.NO_ANSWER, "admin endpoint " + base + " unreachable: " + describe(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AdminCallException(AdminCallException.NO_ANSWER, "admin endpoint " + base + ": interrupted while waiting for "
                    + method + " " + pathAndQuery);
        }
        if (r.statusCode() == 200 || r.statusCode() == 409) {
            return r;
        }
        throw new AdminCallException(r.statusCode(), "admin endpoint " + base + ": " + method + " " + pathAndQuery.replaceAll("\\?.*", "")
                + " answered " + r.statusCode() + ": " + errorOf(r));
    }

    /** The JDK's ConnectException often has no message at all. */
    private static String describe(IOException e) {
        if (e.getMessage() != null && !e.getMessage().isBlank()) {
            return e.getMessage();
        }
        return e instanceof java.net.ConnectException ? "connection refused" : e.getClass().getSimpleName();
    }

    private <T> T parse(HttpResponse<String> r, Class<T> type) {
        try {
            return json.readValue(r.body(), type);
        } catch (JsonProcessingException e) {
            throw new AdminCallException(AdminCallException.NO_ANSWER, "admin endpoint " + base + ": not a Sluice admin API answer to "
                    + r.request().uri().getPath() + " (" + e.getOriginalMessage() + "): " + excerpt(r.body()));
        }
    }

    /** The {"error": …} text of an answer, or an excerpt of whatever came back. */
    private String errorOf(HttpResponse<String> r) {
        try {
            JsonNode n = json.readTree(r.body());
            if (n != null && n.hasNonNull("error")) {
                return n.get("error").asText();
            }
        } catch (JsonProcessingException e) {
            // not JSON: show what it was
        }
        return excerpt(r.body());
    }

    private static String excerpt(String body) {
        String s = body == null ? "" : body.strip().replaceAll("\\s+", " ");
        return s.isEmpty() ? "(empty body)" : s.length() <= 200 ? s : s.substring(0, 200) + "...";
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
