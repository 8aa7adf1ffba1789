package dev.sluice.core.route;

import dev.sluice.core.config.ClusterConfig;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/** Chooses one of the healthy replicas for a read. One instance per router: no shared state. */
abstract class Balancer {
    abstract String pick(List<String> candidates);

    static Balancer create(ClusterConfig cfg, InFlight inFlight) {
        return switch (cfg.balancing()) {
            case ROUND_ROBIN, SESSION -> new RoundRobin(); // SESSION: the session keeps its pick (Session.replica)
            case WEIGHTED_RANDOM -> new WeightedRandom(cfg);
            case LEAST_OUTSTANDING -> new LeastOutstanding(inFlight);
        };
    }

    static final class RoundRobin extends Balancer {
        private final AtomicLong next = new AtomicLong();

        @Override
        String pick(List<String> c) {
            return c.get((int) Math.floorMod(next.getAndIncrement(), (long) c.size()));
        }
    }

    static final class WeightedRandom extends Balancer {
        private final ClusterConfig cfg;

        WeightedRandom(ClusterConfig cfg) {
            this.cfg = cfg;
        }

        @Override
        String pick(List<String> c) {
            int total = 0;
            for (String n : c) {
                total += cfg.node(n).weight();
            }
            if (total == 0) {
                // every candidate weighs 0: weights say "avoid", but a read must go somewhere
                return c.get(ThreadLocalRandom.current().nextInt(c.size()));
            }
            int r = ThreadLocalRandom.current().nextInt(total);
            for (String n : c) {
                r -= cfg.node(n).weight();
                if (r < 0) {
                    return n;
                }
            }
            return c.get(c.size() - 1);
        }
    }

    static final class LeastOutstanding extends Balancer {
        private final InFlight inFlight;
        private final AtomicLong tieBreak = new AtomicLong();

        LeastOutstanding(InFlight inFlight) {
            this.inFlight = inFlight;
        }

        @Override
        String pick(List<String> c) {
            // start the scan at a rotating offset so equal loads still spread
            int start = (int) Math.floorMod(tieBreak.getAndIncrement(), (long) c.size());
            String best = null;
            long bestLoad = Long.MAX_VALUE;
            for (int i = 0; i < c.size(); i++) {
                String n = c.get((start + i) % c.size());
                long load = inFlight.get(n);
                if (load < bestLoad) {
                    best = n;
                    bestLoad = load;
                }
            }
            return best;
        }
    }
}
