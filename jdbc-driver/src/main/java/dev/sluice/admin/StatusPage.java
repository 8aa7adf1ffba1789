package dev.sluice.admin;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The status page: static files bundled in this jar (no CDN, no build step), served at {@code /} and
 * {@code /page/*}. The page itself polls {@code /api/status} and calls the POST endpoints with a token the
 * operator pastes in; the server never puts a token or other secret into it.
 */
final class StatusPage {
    private static final String DIR = "/dev/sluice/admin/page/";

    private StatusPage() {
    }

    /** Path → endpoint serving each bundled file; loaded once, so a broken jar fails at start, not on a click. */
    static Map<String, AdminEndpoints.Endpoint> assets() {
        Map<String, AdminEndpoints.Endpoint> out = new LinkedHashMap<>();
        out.put("/", asset("index.html", "text/html; charset=utf-8"));
        out.put("/page/status.css", asset("status.css", "text/css; charset=utf-8"));
        out.put("/page/status.js", asset("status.js", "text/javascript; charset=utf-8"));
        out.put("/page/chart.js", asset("chart.js", "text/javascript; charset=utf-8"));
        return out;
    }

    private static AdminEndpoints.Endpoint asset(String file, String contentType) {
        StaticAsset a = new StaticAsset(contentType, read(file));
        AdminEndpoints.Reply reply = new AdminEndpoints.Reply(200, a);
        return new AdminEndpoints.Endpoint("GET", false, List.of(), q -> reply);
    }

    private static byte[] read(String file) {
        try (InputStream in = StatusPage.class.getResourceAsStream(DIR + file)) {
            if (in == null) {
                throw new IllegalStateException("status page: resource " + DIR + file + " missing from the jdbc-driver jar");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("status page: cannot read " + DIR + file, e);
        }
    }
}
