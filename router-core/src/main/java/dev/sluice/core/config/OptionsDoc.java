package dev.sluice.core.config;

/** Renders the option catalogue as the Markdown table in docs/configuration.md. */
public final class OptionsDoc {
    private OptionsDoc() {
    }

    public static String markdownTable() {
        StringBuilder sb = new StringBuilder();
        sb.append("| option | type | default | meaning |\n");
        sb.append("|---|---|---|---|\n");
        for (SluiceOption o : SluiceOption.values()) {
            sb.append("| `").append(o.key()).append("` | ")
                    .append(o.type().name().toLowerCase(java.util.Locale.ROOT)).append(" | ")
                    .append(o.defaultValue() == null ? "—" : o.defaultValue().isEmpty() ? "(empty)" : "`" + o.defaultValue() + "`")
                    .append(" | ").append(o.doc().replace("|", "\\|")).append(" |\n");
        }
        return sb.toString();
    }
}
