package dev.sluice.core.config;

/** A configuration error. The message always names the key (or URL parameter) and the bad value. */
public final class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ConfigException(String message) {
        super(message);
    }
}
