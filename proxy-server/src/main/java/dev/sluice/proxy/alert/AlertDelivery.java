package dev.sluice.proxy.alert;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Sends one alert's JSON to one receiver, within the timeout, once: a receiver that is down loses the alert
 * (logged by the caller) rather than holding back the ones after it.
 */
final class AlertDelivery {
    private final HttpClient http;
    private final Duration timeout;

    AlertDelivery(Duration timeout) {
        this.timeout = timeout;
        this.http = HttpClient.newBuilder().connectTimeout(timeout).followRedirects(HttpClient.Redirect.NEVER).build();
    }

    /** POSTs {@code json}; throws with the reason when it was not accepted (not 2xx). */
    void post(URI webhook, byte[] json) throws IOException, InterruptedException {
        HttpRequest req = HttpRequest.newBuilder(webhook).timeout(timeout)
                .header("Content-Type", "application/json; charset=utf-8")
                .header("User-Agent", "sluice-alerts")
                .POST(HttpRequest.BodyPublishers.ofByteArray(json)).build();
        HttpResponse<Void> r = http.send(req, HttpResponse.BodyHandlers.discarding());
        if (r.statusCode() / 100 != 2) {
            throw new IOException("HTTP " + r.statusCode());
        }
    }

    /**
     * Runs {@code command} with {@code sh -c}, {@code json} on its standard input, the kind and node in
     * SLUICE_ALERT_KIND / SLUICE_ALERT_NODE; throws when it fails or outlives the timeout (then it is killed).
     */
    void run(String command, byte[] json, Alert a) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder("sh", "-c", command)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD);
        pb.environment().put("SLUICE_ALERT_KIND", a.kind());
        pb.environment().put("SLUICE_ALERT_NODE", a.node() == null ? "" : a.node());
        Process p = pb.start();
        try {
            try (OutputStream in = p.getOutputStream()) {
                in.write(json);
            } catch (IOException e) {
                // a command that does not read its input closes the pipe: still a delivery if it exits 0
            }
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IOException("still running after " + timeout.toMillis() + " ms: killed");
            }
            if (p.exitValue() != 0) {
                throw new IOException("exit " + p.exitValue());
            }
        } finally {
            if (p.isAlive()) {
                // the shell's children too: `sh -c "a; b"` forks, and killing sh alone would orphan b
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
            }
        }
    }
}
