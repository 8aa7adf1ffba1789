package dev.sluice.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.sluice.jdbc.SluiceAdmin;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin HTTP API of a running proxy (docs/admin-api.md): {@code GET /status} and {@code /health} for
 * anyone who can reach the port, the mutating endpoints only with {@code Authorization: Bearer <token>}.
 * Without a token they are disabled rather than open, so forgetting to configure one is safe.
 */
public final class AdminServer implements AutoCloseable {
    /** Loopback only unless the operator decides otherwise: the status page is not authenticated. */
    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 6480;
    /** Enough for an operator and a monitor at once; a switchover holds one thread for seconds. */
    private static final int THREADS = 4;
    private static final int MAX_BODY_BYTES = 64 * 1024;
    private static final Logger log = LoggerFactory.getLogger(AdminServer.class);

    private final InetSocketAddress bind;
    private final byte[] token;
    private final AdminEndpoints endpoints;
    private final ObjectMapper json = AdminJson.mapper();
    private HttpServer server;
    private javax.net.ssl.SSLContext tls;
    private ExecutorService executor;

    /**
     * @param bind  where to listen; port 0 picks a free one (see {@link #port()})
     * @param token the bearer token the mutating endpoints require; null disables them (403)
     * @param admin the cluster runtime the endpoints act on
     */
    public AdminServer(InetSocketAddress bind, String token, SluiceAdmin admin) {
        this(bind, token, new AdminEndpoints(requireAdmin(admin)));
    }

    private static SluiceAdmin requireAdmin(SluiceAdmin admin) {
        if (admin == null) {
            throw new IllegalArgumentException("admin API: cluster runtime (SluiceAdmin) is null");
        }
        return admin;
    }

    /**
     * The admin API of a sharded proxy: each shard's runtime under {@code /shards/NAME}, an index at the root (see
     * {@link AdminEndpoints#sharded}).
     *
     * @param shards shard name → that shard's cluster runtime, in shard order
     */
    public AdminServer(InetSocketAddress bind, String token, Map<String, SluiceAdmin> shards) {
        this(bind, token, AdminEndpoints.sharded(shards));
    }

    private AdminServer(InetSocketAddress bind, String token, AdminEndpoints endpoints) {
        if (bind == null) {
            throw new IllegalArgumentException("admin API: bind address is null");
        }
        if (token != null && token.isBlank()) {
            throw new IllegalArgumentException("admin API: admin-token is empty: set a token, or leave it out to disable the mutating endpoints");
        }
        this.bind = bind;
        this.token = token == null ? null : token.getBytes(StandardCharsets.UTF_8);
        this.endpoints = endpoints;
    }

    /** Adds a read-only {@code GET path} answering {@code body}'s text as {@code contentType} (GET /metrics); before start(). */
    public void addText(String path, String contentType, java.util.function.Supplier<String> body) {
        endpoints.add(path, new AdminEndpoints.Endpoint("GET", false, java.util.List.of(),
                q -> new AdminEndpoints.Reply(200, new AdminEndpoints.Text(contentType, body.get()))));
    }

    /**
     * Adds an endpoint before {@link #start()}: how an embedder (the demo) serves its own paths next to the
     * built-in ones. A mutating endpoint gets the same token check as the built-in ones.
     */
    public synchronized AdminServer route(String path, AdminEndpoints.Endpoint endpoint) {
        if (server != null) {
            throw new IllegalStateException("admin API on " + bind + ": add endpoints before start()");
        }
        endpoints.put(path, endpoint);
        return this;
    }

    /** Serves HTTPS with {@code context} instead of HTTP (plain HTTP is then refused); before start(). */
    public synchronized AdminServer tls(javax.net.ssl.SSLContext context) {
        if (server != null) {
            throw new IllegalStateException("admin API on " + bind + ": set TLS before start()");
        }
        this.tls = context;
        return this;
    }

    /** Binds and starts serving. */
    public synchronized void start() throws IOException {
        if (server != null) {
            throw new IllegalStateException("admin API on " + bind + " already started");
        }
        HttpServer s;
        try {
            if (tls != null) {
                com.sun.net.httpserver.HttpsServer https = com.sun.net.httpserver.HttpsServer.create(bind, 0);
                https.setHttpsConfigurator(new com.sun.net.httpserver.HttpsConfigurator(tls));
                s = https;
            } else {
                s = HttpServer.create(bind, 0);
            }
        } catch (IOException e) {
            throw new IOException("admin API: cannot listen on " + bind.getHostString() + ":" + bind.getPort() + ": " + e.getMessage(), e);
        }
        AtomicInteger n = new AtomicInteger();
        executor = Executors.newFixedThreadPool(THREADS, r -> {
            Thread t = new Thread(r, "sluice-admin-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        s.setExecutor(executor);
        s.createContext("/", this::handle);
        s.start();
        server = s;
        log.info("admin API listening on {}://{}:{} (mutating endpoints {})", tls != null ? "https" : "http", bind.getHostString(), port(),
                token == null ? "disabled: no admin-token" : "enabled");
    }

    /** The port actually bound (useful with port 0). */
    public synchronized int port() {
        if (server == null) {
            throw new IllegalStateException("admin API on " + bind + " not started");
        }
        return server.getAddress().getPort();
    }

    /**
     * Stops listening at once. A switchover already running is left to finish on its own thread: cutting it
     * short could leave the old primary read-only with no new one.
     */
    @Override
    public synchronized void close() {
        if (server != null) {
            server.stop(0);
            executor.shutdown();
            server = null;
        }
    }

    private void handle(HttpExchange ex) {
        try {
            skipBody(ex);
            AdminEndpoints.Reply reply = replyTo(ex);
            if (ex.getRequestMethod().equals("POST")) { // an audit trail of who changed what; never the token
                log.info("admin API: POST {} from {} -> {}", ex.getRequestURI(), ex.getRemoteAddress(), reply.status());
            }
            send(ex, reply);
        } catch (IOException e) {
            log.debug("admin API: could not answer {} {}: {}", ex.getRequestMethod(), ex.getRequestURI(), e.toString());
        } finally {
            ex.close();
        }
    }

    private AdminEndpoints.Reply replyTo(HttpExchange ex) {
        String what = ex.getRequestMethod() + " " + ex.getRequestURI().getPath();
        try {
            AdminEndpoints.Endpoint ep = endpoints.at(ex.getRequestURI().getPath());
            if (ep == null) {
                throw new AdminHttpException(404, "no endpoint " + ex.getRequestURI().getPath()
                        + " (GET /, /status, /api/status, /api/events, /health, POST /drain, /undrain, /promote, /switchover;"
                        + " a sharded proxy has them under /shards/NAME, and GET /api/shards)");
            }
            if (!ep.method().equals(ex.getRequestMethod())) {
                ex.getResponseHeaders().set("Allow", ep.method());
                throw new AdminHttpException(405, what + ": method not allowed, use " + ep.method());
            }
            if (ep.mutating()) {
                authorize(ex);
            }
            return ep.action().apply(QueryParams.parse(ex.getRequestURI().getRawQuery(), ep.params()));
        } catch (AdminHttpException e) {
            return error(e.status(), e.getMessage());
        } catch (IllegalStateException e) { // the runtime's "cannot now", e.g. no primary to record a drain on
            return error(409, what + " refused: " + e.getMessage());
        } catch (RuntimeException e) {
            log.warn("admin API: {} failed", what, e);
            return error(500, what + " failed: " + (e.getMessage() != null ? e.getMessage() : e.toString()));
        }
    }

    private void authorize(HttpExchange ex) {
        if (token == null) {
            throw new AdminHttpException(403, "admin-token not configured: mutating endpoints are disabled");
        }
        String header = ex.getRequestHeaders().getFirst("Authorization");
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            ex.getResponseHeaders().set("WWW-Authenticate", "Bearer");
            throw new AdminHttpException(401, "missing 'Authorization: Bearer <token>' header: mutating endpoints need the admin token");
        }
        // constant time, so the token cannot be guessed byte by byte from response times
        if (!MessageDigest.isEqual(token, header.substring(7).trim().getBytes(StandardCharsets.UTF_8))) {
            ex.getResponseHeaders().set("WWW-Authenticate", "Bearer error=\"invalid_token\"");
            throw new AdminHttpException(401, "wrong admin token");
        }
    }

    private static AdminEndpoints.Reply error(int status, String message) {
        return new AdminEndpoints.Reply(status, Map.of("error", message));
    }

    private void send(HttpExchange ex, AdminEndpoints.Reply reply) throws IOException {
        byte[] body;
        int status = reply.status();
        // the page's scripts come from this server only: an injected value cannot load or run foreign code
        ex.getResponseHeaders().set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
        ex.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        if (reply.body() instanceof StaticAsset asset) {
            body = asset.bytes();
            ex.getResponseHeaders().set("Content-Type", asset.contentType());
        } else if (reply.body() instanceof AdminEndpoints.Text t) {
            body = t.text().getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", t.contentType());
        } else if (reply.body() instanceof String text) {
            body = text.getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        } else {
            try {
                body = json.writeValueAsBytes(reply.body());
            } catch (JsonProcessingException e) { // still answer: a dropped connection says nothing
                log.warn("admin API: cannot serialize the reply to {}", ex.getRequestURI(), e);
                status = 500;
                body = json.writeValueAsBytes(Map.of("error", "cannot serialize the reply: " + e.getOriginalMessage()));
            }
            ex.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
        }
        ex.sendResponseHeaders(status, body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
    }

    /** Parameters come in the query; a body is read (bounded) and ignored so the connection can be reused. */
    private static void skipBody(HttpExchange ex) throws IOException {
        try (InputStream in = ex.getRequestBody()) {
            in.readNBytes(MAX_BODY_BYTES);
        }
    }
}
