package dev.sluice.testsupport;

/** Database engine of a {@link DbCluster}. */
public enum Engine {
    POSTGRESQL,
    MARIADB
}
