package dev.sluice.testsupport;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Missing binaries are reported clearly, before any process or directory is created. */
class ClustersTest {
    @Test
    void missingPostgresBinariesAreNamed() {
        String old = System.getProperty("sluice.pgBin");
        System.setProperty("sluice.pgBin", "/nonexistent/pg/bin");
        try {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> Clusters.startPostgres("x", 1));
            assertTrue(e.getMessage().contains("/nonexistent/pg/bin"), e.getMessage());
        } finally {
            restore("sluice.pgBin", old);
        }
    }

    @Test
    void missingMariaDbBinariesAreNamed() {
        String old = System.getProperty("sluice.mariadbd");
        System.setProperty("sluice.mariadbd", "/nonexistent/mariadbd");
        try {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> Clusters.startMariaDb("x", 1));
            assertTrue(e.getMessage().contains("/nonexistent/mariadbd"), e.getMessage());
        } finally {
            restore("sluice.mariadbd", old);
        }
    }

    private static void restore(String key, String old) {
        if (old == null) {
            System.clearProperty(key);
        } else {
            System.setProperty(key, old);
        }
    }
}
