package dev.sluice.core.failover;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The combined output of a failover hook, read to the end on its own thread and kept bounded for the event
 * log: the first {@value #HEAD} and the last {@value #TAIL} bytes. Both ends matter — what the hook was
 * doing, and (with {@code set -e}) the command that failed, which is the last thing it printed.
 */
final class HookOutput {
    static final int HEAD = 2048;
    static final int TAIL = 6144;

    private final ByteArrayOutputStream head = new ByteArrayOutputStream();
    private final byte[] tail = new byte[TAIL];
    private long tailBytes; // bytes that went past the head; the last TAIL of them are in the ring
    private final CountDownLatch done = new CountDownLatch(1);

    private HookOutput() {
    }

    static HookOutput drain(InputStream in, String threadName) {
        HookOutput o = new HookOutput();
        Thread t = new Thread(() -> o.readAll(in), threadName);
        t.setDaemon(true);
        t.start();
        return o;
    }

    private void readAll(InputStream in) {
        byte[] buf = new byte[4096];
        try (in) {
            for (int n; (n = in.read(buf)) > 0; ) {
                append(buf, n);
            }
        } catch (IOException e) {
            // the process went away and its pipe with it: keep what we have
        } finally {
            done.countDown();
        }
    }

    private synchronized void append(byte[] buf, int n) {
        int toHead = Math.min(n, HEAD - head.size());
        head.write(buf, 0, toHead);
        for (int i = toHead; i < n; i++) {
            tail[(int) (tailBytes++ % TAIL)] = buf[i];
        }
    }

    /**
     * The output so far (after waiting up to {@code waitMillis} for its end: a background child of the hook
     * may keep the pipe open), trimmed, or empty when there was none.
     */
    Optional<String> text(long waitMillis) throws InterruptedException {
        done.await(waitMillis, TimeUnit.MILLISECONDS);
        String s;
        synchronized (this) {
            StringBuilder b = new StringBuilder(new String(head.toByteArray(), StandardCharsets.UTF_8));
            if (tailBytes > TAIL) {
                b.append("\n… (").append(tailBytes - TAIL).append(" bytes left out) …\n");
            }
            int kept = (int) Math.min(tailBytes, TAIL);
            byte[] last = new byte[kept];
            for (int i = 0; i < kept; i++) {
                last[i] = tail[(int) ((tailBytes - kept + i) % TAIL)];
            }
            s = b.append(new String(last, StandardCharsets.UTF_8)).toString().trim();
        }
        return s.isEmpty() ? Optional.empty() : Optional.of(s);
    }
}
