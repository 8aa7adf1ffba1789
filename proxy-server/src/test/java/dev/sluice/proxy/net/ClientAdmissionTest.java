package dev.sluice.proxy.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ClientAdmissionTest {
    @Test
    void admitsUpToTheLimitAndCountsNoRefusedClient() {
        ClientAdmission a = new ClientAdmission(2);
        assertTrue(a.admit());
        assertTrue(a.admit());
        assertFalse(a.admit());
        assertFalse(a.admit());
        assertEquals(2, a.count(), "refused clients are not counted");
    }

    @Test
    void aReleasedSlotAdmitsTheNextClient() {
        ClientAdmission a = new ClientAdmission(1);
        assertTrue(a.admit());
        assertFalse(a.admit());
        a.release();
        assertEquals(0, a.count());
        assertTrue(a.admit());
        assertEquals(1, a.count());
    }

    @Test
    void zeroAdmitsNobody() {
        ClientAdmission a = new ClientAdmission(0);
        assertFalse(a.admit());
        assertEquals(0, a.count());
    }

    @Test
    void clientsRacingForTheLastSlotsGetExactlyTheLimit() throws InterruptedException {
        int max = 50;
        ClientAdmission a = new ClientAdmission(max);
        AtomicInteger admitted = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            Thread th = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < 100; i++) {
                    if (a.admit()) {
                        admitted.incrementAndGet();
                    }
                }
            });
            th.start();
            threads.add(th);
        }
        start.countDown();
        for (Thread th : threads) {
            th.join();
        }
        assertEquals(max, admitted.get());
        assertEquals(max, a.count());
    }
}
