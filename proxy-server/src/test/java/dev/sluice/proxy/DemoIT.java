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
            exit = new CommandLine(new SluiceCli()).execute("demo", "--exit", "--port", "0", "--admin-port", "0",
                    "--mysql-port", "0", "--mysql-admin-port", "0");
        } finally {
            System.setOut(before);
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        assertEquals(0, exit, out);
        List<String> answered = out.lines().filter(l -> l.contains("answered by")).toList();
        assertEquals(14, answered.size(), out);
        checkTour(answered.subList(0, 7), "pg-");
        checkTour(answered.subList(7, 14), "mariadb-");
        assertTrue(out.contains("psql \"host=127.0.0.1 port="), out);
        assertTrue(out.contains("mariadb -h 127.0.0.1 -P "), out);
        assertEquals(2, out.lines().filter(l -> l.contains("back in the read set")).count(), out);
    }

    /** One engine's tour: the node that answered each statement, as the server itself reported (its port). */
    private static void checkTour(List<String> answered, String prefix) {
        assertTrue(answered.get(0).startsWith("   INSERT") && answered.get(0).endsWith(prefix + "primary"), answered.get(0));
        assertTrue(answered.get(1).contains(prefix + "replica"), answered.get(1));
        assertTrue(answered.get(2).contains(prefix + "replica"), answered.get(2));
        assertTrue(answered.get(3).endsWith(prefix + "primary"), "hint: " + answered.get(3));
        assertTrue(answered.get(4).endsWith(prefix + "primary"), "transaction: " + answered.get(4));
        assertTrue(answered.get(5).endsWith(prefix + "replica2") && answered.get(6).endsWith(prefix + "replica2"),
                "paused replica1 left the read set: " + answered.subList(5, 7));
    }
}
