package dev.sluice.coord.zk;

import dev.sluice.core.coord.Coordinator;
import dev.sluice.core.failover.FailoverResult;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Promote/switchover requests that any instance accepts (admin API, CLI) and the leader executes: a
 * sequential znode per request under {@code requests/}. The leader claims it by compare-and-set (so a leader
 * change cannot run it twice), runs it, and writes the result into the same znode; the asking instance polls
 * for the result and deletes the znode. A request claimed by a leader that died before answering is answered
 * by the next leader as failed (it may have half-run: the operator checks the status and retries), never run
 * again.
 */
final class ZkRequests implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ZkRequests.class);
    /** A switchover waits for catch-up and holds writes, then the hook may run up to 60 s. */
    static final long ANSWER_TIMEOUT_MS = 120_000;

    private final CuratorFramework client;
    private final String path;
    private final String self;
    private final BooleanSupplier leader;
    private final ExecutorService worker;
    private volatile Coordinator.RequestHandler handler;

    ZkRequests(CuratorFramework client, String path, String self, BooleanSupplier leader, String cluster) {
        this.client = client;
        this.path = path;
        this.self = self;
        this.leader = leader;
        this.worker = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "sluice-coord-requests-" + cluster);
            t.setDaemon(true);
            return t;
        });
    }

    void setHandler(Coordinator.RequestHandler h) {
        this.handler = h;
    }

    /** Asks the leader and waits for its answer (or {@link #ANSWER_TIMEOUT_MS}). */
    FailoverResult ask(Coordinator.Request r) {
        String node;
        try {
            node = client.create().creatingParentsIfNeeded().withMode(CreateMode.PERSISTENT_SEQUENTIAL)
                    .forPath(path + "/req-", ZkJson.write(new ZkJson.RequestNode(r, self, null, null)));
        } catch (Exception e) {
            return failed("could not reach ZooKeeper to ask the leader: " + e.getMessage());
        }
        try {
            long deadline = System.nanoTime() + ANSWER_TIMEOUT_MS * 1_000_000L;
            while (System.nanoTime() < deadline) {
                ZkJson.RequestNode n = ZkJson.request(client.getData().forPath(node));
                if (n != null && n.result() != null) {
                    return n.result();
                }
                Thread.sleep(50); // an admin request: a 50 ms poll costs nothing and needs no watch bookkeeping
            }
            return failed("no answer from the leader within " + ANSWER_TIMEOUT_MS / 1000 + " s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return failed("interrupted while waiting for the leader");
        } catch (Exception e) {
            return failed("lost the request while waiting for the leader: " + e.getMessage());
        } finally {
            try {
                client.delete().guaranteed().forPath(node);
            } catch (Exception e) {
                log.debug("could not delete request {}: {}", node, e.toString());
            }
        }
    }

    /** A request znode appeared or changed: the leader serves it (on its own thread: it may take seconds). */
    void seen(String nodePath, byte[] data) {
        if (!leader.getAsBoolean()) {
            return;
        }
        ZkJson.RequestNode n = ZkJson.request(data);
        if (n != null && n.takenBy() == null && n.result() == null) {
            worker.execute(() -> serve(nodePath));
        }
    }

    /** Just elected: serve what waits, and answer what a previous leader took but never answered. */
    void becameLeader() {
        worker.execute(() -> {
            try {
                if (client.checkExists().forPath(path) == null) {
                    return;
                }
                for (String child : client.getChildren().forPath(path)) {
                    String p = path + "/" + child;
                    ZkJson.RequestNode n = ZkJson.request(client.getData().forPath(p));
                    if (n == null || n.result() != null) {
                        continue;
                    }
                    if (n.takenBy() == null) {
                        serve(p);
                    } else if (!n.takenBy().equals(self)) {
                        answer(p, new ZkJson.RequestNode(n.request(), n.from(), n.takenBy(), failed("leader " + n.takenBy()
                                + " went away before answering; it may have run part of the request: check the status and retry")));
                    }
                }
            } catch (Exception e) {
                log.warn("could not scan pending requests under {}: {}", path, e.toString());
            }
        });
    }

    private void serve(String p) {
        Coordinator.RequestHandler h = handler;
        if (h == null || !leader.getAsBoolean()) {
            return;
        }
        try {
            Stat stat = new Stat();
            ZkJson.RequestNode n = ZkJson.request(client.getData().storingStatIn(stat).forPath(p));
            if (n == null || n.takenBy() != null || n.result() != null) {
                return;
            }
            ZkJson.RequestNode taken = new ZkJson.RequestNode(n.request(), n.from(), self, null);
            client.setData().withVersion(stat.getVersion()).forPath(p, ZkJson.write(taken));
            log.info("leader {} runs {} from {}", self, n.request(), n.from());
            FailoverResult result;
            try {
                result = h.handle(n.request());
            } catch (RuntimeException e) {
                result = failed("the leader failed to run it: " + e.getMessage());
            }
            answer(p, new ZkJson.RequestNode(n.request(), n.from(), self, result));
        } catch (KeeperException.BadVersionException | KeeperException.NoNodeException e) {
            // another leader took it first, or the asker gave up and deleted it
        } catch (Exception e) {
            log.warn("could not serve request {}: {}", p, e.toString());
        }
    }

    private void answer(String p, ZkJson.RequestNode n) throws Exception {
        try {
            client.setData().forPath(p, ZkJson.write(n));
        } catch (KeeperException.NoNodeException e) {
            // the asker gave up
        }
    }

    static FailoverResult failed(String why) {
        return new FailoverResult(false, null, -1, why, List.of("failover-aborted: " + why));
    }

    @Override
    public void close() {
        worker.shutdownNow();
    }
}
