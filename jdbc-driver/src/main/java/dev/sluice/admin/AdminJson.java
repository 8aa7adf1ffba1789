package dev.sluice.admin;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import java.io.IOException;
import java.util.regex.Pattern;

/**
 * The JSON mapping shared by {@link AdminServer} and the proxy CLI's AdminClient, so both sides agree on the shape
 * of ClusterStatus and FailoverResult (Jackson maps the records by their components).
 */
public final class AdminJson {
    /**
     * Status reasons and event messages carry driver error texts; a driver that echoes its connection URL
     * would leak a password into a page anyone on the admin port may read, so such values are masked.
     */
    private static final Pattern SECRET = Pattern.compile("(?i)(password|passwd|pwd)(\\s*[=:]\\s*)([^&;,\\s)'\"]+)");

    private AdminJson() {
    }

    public static ObjectMapper mapper() {
        SimpleModule redaction = new SimpleModule("sluice-redaction");
        redaction.addSerializer(String.class, new StdSerializer<>(String.class) {
            @Override
            public void serialize(String value, JsonGenerator gen, SerializerProvider provider) throws IOException {
                gen.writeString(redact(value));
            }
        });
        return new ObjectMapper()
                .registerModule(redaction)
                // a newer proxy may add fields: an older CLI must still read the rest
                .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    }

    public static String redact(String s) {
        return s == null ? null : SECRET.matcher(s).replaceAll("$1$2***");
    }
}
