package dev.sluice.proxy;

import java.util.Locale;

/**
 * Every option of the {@code proxy:} section of the config file, once: key, default, meaning.
 * docs/proxy.md's options table is generated from this list and a test keeps the two identical.
 * (Cluster options — nodes, credentials, lag, failover — are {@link dev.sluice.core.config.SluiceOption}.)
 */
public enum ProxyOption {
    LISTEN("listen", null, "Address the proxy listens on, `host:port`; by default `127.0.0.1:6432` for a PostgreSQL cluster, `127.0.0.1:6033` for MySQL/MariaDB."),
    CLUSTER("cluster", null, "Which cluster of the file to serve; may be left out when the file has one."),
    DATABASE("database", null, "Serve a sharded logical database of the file's `databases:` section instead of one cluster (docs/sharding.md): clients connect to database NAME and statements go to the shards by key. Not together with `cluster`."),
    AUTH("auth", null,
            "How clients authenticate to the proxy. PostgreSQL: `scram-sha-256` (the default), `md5` (users with a SCRAM verifier still get SCRAM, as in PostgreSQL) or `trust`. MySQL/MariaDB: `password` (the default: each user by the plugin its secret is for) or `trust`. `trust` means no password: for local testing, and accepted only when `listen` is a loopback address."),
    USERS("users", "", "Clients allowed in: a list of `{name, password}`. PostgreSQL: a SCRAM verifier (`SCRAM-SHA-256$…`, from `./sluice passwd` or pg_authid) or an md5 hash (`md5…`). MySQL/MariaDB: a mysql_native_password hash (`*` + 40 hex digits, as in mysql.user or from `./sluice passwd --mysql-native`) or a SHA-256-crypt string (`$5$…`, from `./sluice passwd --mysql`) for caching_sha2_password. Never plaintext."),
    TLS_CERT("tls-cert", null, "PEM certificate (chain) for TLS. Without it a PostgreSQL SSLRequest is answered 'N', and the MySQL greeting does not offer SSL."),
    TLS_KEY("tls-key", null, "PEM private key (PKCS#8) of `tls-cert`."),
    TLS_REQUIRED("tls-required", "false", "Refuse clients that did not negotiate TLS."),
    AUTH_FAILURE_LIMIT("auth-failure-limit", "5", "Failed logins (wrong password or unknown user) one client IP address may have within `auth-failure-window-ms`; after that its logins are refused (SQLSTATE 28000) until the window has passed. 0 turns the limit off."),
    AUTH_FAILURE_WINDOW_MS("auth-failure-window-ms", "60000", "The window of `auth-failure-limit`, counted from a source's first failure in it."),
    ADMIN_LISTEN("admin-listen", "127.0.0.1:6480", "Address of the admin HTTP API and the status page (`GET /`, `/api/status` …), `host:port`, or `off`."),
    ADMIN_TOKEN("admin-token", null, "Bearer token for the admin API's mutating endpoints (promote, switchover, drain). Without it they are disabled. A non-loopback `admin-listen` without a token is allowed (status and metrics only) but warned about."),
    ADMIN_TLS("admin-tls", "false", "Serve the admin API over HTTPS with `tls-cert`/`tls-key` (then plain HTTP is refused). Recommended whenever `admin-listen` is not loopback and a token is set: the token travels in every request."),
    MAX_CLIENT_CONNECTIONS("max-client-connections", "10000", "Client connections accepted at once; more are refused with SQLSTATE 53300."),
    AUTH_TIMEOUT_MS("auth-timeout-ms", "60000", "Time a client has from connecting to finishing authentication (PostgreSQL's `authentication_timeout`); one still not logged in is disconnected with SQLSTATE 57014, freeing its `max-client-connections` slot."),
    MAX_MESSAGE_BYTES("max-message-bytes", "67108864", "Largest protocol message accepted from a client or backend; a larger one closes that connection with an error."),
    EVENT_LOOP_THREADS("event-loop-threads", "0", "Network threads; 0 means half the CPU cores, at least 1 (the proxy usually shares its machine with clients or a server; on 2 cores one thread cost 12-15 µs of CPU per pgbench transaction, two threads 15-18: docs/benchmarks.md)."),
    ALERT_WEBHOOKS("alert-webhooks", "", "URLs (`http`/`https`, a list or one) that each get an HTTP POST of every alert's JSON (docs/alerts.md)."),
    ALERT_COMMAND("alert-command", null, "Command run with `sh -c` for every alert, the alert's JSON on its standard input (docs/alerts.md)."),
    ALERT_DEDUP_MS("alert-dedup-ms", "60000", "Alerts of the same kind for the same node within this window are sent once; the next one sent counts the repeats. 0 sends every one."),
    ALERT_TIMEOUT_MS("alert-timeout-ms", "5000", "Longest one alert delivery (a POST, a command run) may take; it is tried once.");

    private final String key;
    private final String defaultValue;
    private final String doc;

    ProxyOption(String key, String defaultValue, String doc) {
        this.key = key;
        this.defaultValue = defaultValue;
        this.doc = doc;
    }

    public String key() {
        return key;
    }

    public String defaultValue() {
        return defaultValue;
    }

    public String doc() {
        return doc;
    }

    static ProxyOption byKey(String k) {
        for (ProxyOption o : values()) {
            if (o.key.equals(k.toLowerCase(Locale.ROOT))) {
                return o;
            }
        }
        return null;
    }

    /** The markdown table for docs/proxy.md. */
    static String markdownTable() {
        StringBuilder b = new StringBuilder("| Key | Default | Meaning |\n|---|---|---|\n");
        for (ProxyOption o : values()) {
            b.append("| `").append(o.key).append("` | ")
                    .append(o.defaultValue == null || o.defaultValue.isEmpty() ? "—" : "`" + o.defaultValue + "`")
                    .append(" | ").append(o.doc).append(" |\n");
        }
        return b.toString();
    }
}
