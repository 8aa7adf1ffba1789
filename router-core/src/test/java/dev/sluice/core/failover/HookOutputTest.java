package dev.sluice.core.failover;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class HookOutputTest {
    private static HookOutput of(String s) {
        return HookOutput.drain(new ByteArrayInputStream(s.getBytes(StandardCharsets.UTF_8)), "test");
    }

    @Test
    void keepsEveryLineOfAShortOutput() throws Exception {
        assertEquals(Optional.of("one\ntwo\nthree"), of("one\ntwo\nthree\n").text(5_000));
        assertEquals(Optional.empty(), of(" \n").text(5_000));
    }

    @Test
    void keepsTheBeginningAndTheEndOfALongOutput() throws Exception {
        StringBuilder b = new StringBuilder("first line\n");
        for (int i = 0; i < 10_000; i++) {
            b.append("line ").append(i).append('\n');
        }
        b.append("pg_rewind: fatal: the last thing it said\n");
        String text = of(b.toString()).text(5_000).orElseThrow();
        assertTrue(text.startsWith("first line\nline 0\n"), text.substring(0, 40));
        assertTrue(text.endsWith("line 9999\npg_rewind: fatal: the last thing it said"), text);
        assertTrue(text.contains(" bytes left out) …"), "says that it left something out");
        assertTrue(text.length() < HookOutput.HEAD + HookOutput.TAIL + 100, "bounded: " + text.length());
    }

    @Test
    void givesWhatItHasWhenThePipeStaysOpen() throws Exception {
        // a background child of the hook may hold its stdout open long after the hook exited
        PipedOutputStream w = new PipedOutputStream();
        HookOutput o = HookOutput.drain(new PipedInputStream(w), "test");
        w.write("started\n".getBytes(StandardCharsets.UTF_8));
        w.flush();
        long deadline = System.nanoTime() + 5_000_000_000L;
        Optional<String> text = o.text(0);
        while (text.isEmpty() && System.nanoTime() < deadline) {
            text = o.text(20);
        }
        assertEquals(Optional.of("started"), text);
        w.close();
    }
}
