package dev.sluice.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code ./sluice demo --exit}: the README's first command, its guided tour checked line by line. */
class DemoIT {
    @Test
    void tourRoutesThroughTheProxyAndShowsTheLaggingReplicaDropped() {
        PrintStream before = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        int exit;
        try {
            exit = new CommandLine(new SluiceCli()).execute("demo", "--exit", "--port", "0", "--admin-port", "0");
        } finally {
            System.setOut(before);
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        assertEquals(0, exit, out);
        List<String> answered = out.lines().filter(l -> l.contains("answered by")).toList();
        assertEquals(7, answered.size(), out);
        assertTrue(answered.get(0).startsWith("   INSERT") && answered.get(0).endsWith("pg-primary"), answered.get(0));
        assertTrue(answered.get(1).contains("pg-replica"), answered.get(1));
        assertTrue(answered.get(2).contains("pg-replica"), answered.get(2));
        assertTrue(answered.get(3).endsWith("pg-primary"), "hint: " + answered.get(3));
        assertTrue(answered.get(4).endsWith("pg-primary"), "transaction: " + answered.get(4));
        assertTrue(answered.get(5).endsWith("pg-replica2") && answered.get(6).endsWith("pg-replica2"),
                "paused replica1 left the read set: " + answered.subList(5, 7));
        assertTrue(out.contains("psql \"host=127.0.0.1 port="), out);
        assertTrue(out.contains("back in the read set"), out);
    }
}
