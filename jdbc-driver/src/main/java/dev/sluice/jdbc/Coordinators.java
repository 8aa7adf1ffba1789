package dev.sluice.jdbc;

import dev.sluice.core.config.ClusterConfig;
import dev.sluice.core.config.ConfigException;
import dev.sluice.core.config.SluiceOption;
import dev.sluice.core.coord.Coordinator;

/**
 * Picks a runtime's coordinator: the local one unless {@code coordination-zookeeper-connect} is set. The
 * ZooKeeper implementation lives in the optional {@code coordination-zk} artifact; it is referenced only from
 * {@link Zk}, a class the JVM loads only when cluster mode is on, so the driver runs without Curator and
 * ZooKeeper on the classpath otherwise.
 */
final class Coordinators {
    private static final String ZK_CLASS = "dev.sluice.coord.zk.ZkCoordinator";

    private Coordinators() {
    }

    static Coordinator create(ClusterConfig c) {
        if (c.coordinationConnect() == null) {
            // no host-name lookup here: a single instance needs no unique name, and the lookup can be slow
            return Coordinator.local(c.isSet(SluiceOption.COORDINATION_INSTANCE_NAME) ? c.coordinationInstanceName() : "local");
        }
        try {
            Class.forName(ZK_CLASS, false, Coordinators.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new ConfigException("cluster '" + c.name() + "': coordination-zookeeper-connect is set but cluster mode is not "
                    + "on the classpath: add the artifact dev.sluice:coordination-zk (docs/cluster-mode.md)");
        }
        return Zk.create(c);
    }

    /** The only reference to the optional artifact. */
    private static final class Zk {
        static Coordinator create(ClusterConfig c) {
            return new dev.sluice.coord.zk.ZkCoordinator(c);
        }
    }
}
