package dev.sluice.proxy.alert;

import java.net.URI;
import java.util.List;

/**
 * Where alerts go (proxy options {@code alert-webhooks}, {@code alert-command}) and how they are paced.
 *
 * @param webhooks  each gets an HTTP POST of the alert JSON
 * @param command   run with {@code sh -c}, the alert JSON on its standard input; null for none
 * @param dedupMs   the same kind for the same node within this window is one alert (0: no de-duplication)
 * @param timeoutMs the longest one delivery (a POST, a command run) may take
 */
public record AlertSettings(List<URI> webhooks, String command, long dedupMs, long timeoutMs) {
    public AlertSettings {
        webhooks = List.copyOf(webhooks);
    }

    public static AlertSettings none() {
        return new AlertSettings(List.of(), null, 60_000, 5_000);
    }

    public boolean enabled() {
        return !webhooks.isEmpty() || command != null;
    }

    /** Webhook URLs may carry a token (chat services put it in the path): logs name only the host. */
    public static String safeName(URI webhook) {
        return webhook.getScheme() + "://" + webhook.getHost() + (webhook.getPort() < 0 ? "" : ":" + webhook.getPort()) + "/…";
    }

    @Override
    public String toString() {
        return "AlertSettings[webhooks=" + webhooks.stream().map(AlertSettings::safeName).toList()
                + ", command=" + (command == null ? "none" : "set") + ", dedupMs=" + dedupMs + ", timeoutMs=" + timeoutMs + "]";
    }
}
