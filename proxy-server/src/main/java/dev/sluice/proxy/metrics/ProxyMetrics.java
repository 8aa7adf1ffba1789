package dev.sluice.proxy.metrics;

import dev.sluice.core.cache.ReadCache;
import dev.sluice.core.config.NodeConfig;
import dev.sluice.core.health.NodeState;
import dev.sluice.core.route.NodeRole;
import dev.sluice.core.route.NodeStatus;
import dev.sluice.core.route.Router;
import dev.sluice.proxy.net.CycleTimer;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

/**
 * The metrics of one proxy (docs/metrics.md), in a Prometheus registry this instance owns: two proxies in one
 * JVM never share meters. Almost everything is read from router-core's own counters and snapshots when
 * scraped (function counters and gauges), so routing pays nothing for metrics; the one thing recorded on the
 * hot path is the statement-cycle latency, into a per-node timer looked up in an immutable map.
 */
public final class ProxyMetrics implements CycleTimer {
    /** Prometheus text format 0.0.4, what {@link PrometheusMeterRegistry#scrape()} writes. */
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    /** Histogram buckets for statement cycles: sub-millisecond point reads up to long reports. */
    private static final Duration[] LATENCY_BUCKETS = {
        Duration.ofNanos(250_000), Duration.ofNanos(500_000), Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMillis(5),
        Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
        Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10),
    };

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Router router;
    private final Map<String, Timer> latency;
    private final Set<String> fallbackReasons = ConcurrentHashMap.newKeySet();
    private final Set<String> invalidatedTables = ConcurrentHashMap.newKeySet();

    public ProxyMetrics(Router router) {
        this.router = router;
        registry.config().commonTags("cluster", router.config().name());
        Map<String, Timer> timers = new HashMap<>();
        for (NodeConfig n : router.config().nodes()) {
            String node = n.name();
            bindNode(node);
            timers.put(node, Timer.builder("sluice.statement.duration")
                    .description("Statement cycles through the proxy, first message to the backend until its ReadyForQuery")
                    .tag("node", node).serviceLevelObjectives(LATENCY_BUCKETS).register(registry));
        }
        this.latency = Map.copyOf(timers);
        bindRouter();
        if (router.readCache().enabled()) {
            bindCache();
        }
    }

    /** The read cache (docs/cache.md), read from router-core's counters when scraped. */
    private void bindCache() {
        ReadCache c = router.readCache();
        FunctionCounter.builder("sluice.cache.requests", c, ReadCache::hits)
                .description("Read-cache lookups of cacheable reads by result").tag("result", "hit").register(registry);
        FunctionCounter.builder("sluice.cache.requests", c, ReadCache::misses)
                .description("Read-cache lookups of cacheable reads by result").tag("result", "miss").register(registry);
        Gauge.builder("sluice.cache.hit.ratio", c, r -> r.hits() + r.misses() == 0 ? 0 : (double) r.hits() / (r.hits() + r.misses()))
                .description("Share of cacheable reads answered from the read cache (0 before any)").register(registry);
        Gauge.builder("sluice.cache.size", c, ReadCache::bytes).baseUnit("bytes")
                .description("Estimated size of the cached results; bounded by cache-max-bytes").register(registry);
        Gauge.builder("sluice.cache.entries", c, ReadCache::entries)
                .description("Results in the read cache (approximate)").register(registry);
        FunctionCounter.builder("sluice.cache.stores", c, ReadCache::storesCount)
                .description("Results put into the read cache").register(registry);
        FunctionCounter.builder("sluice.cache.removals", c, ReadCache::evictionCount)
                .description("Entries removed by eviction (size) or expiry (ttl)").tag("cause", "size").register(registry);
        FunctionCounter.builder("sluice.cache.removals", c, ReadCache::expirationCount)
                .description("Entries removed by eviction (size) or expiry (ttl)").tag("cause", "ttl").register(registry);
    }

    /** Tables appear as writes through the proxy invalidate them; "*" counts flushes of the whole cache. */
    private void registerNewInvalidatedTables() {
        ReadCache c = router.readCache();
        for (String table : c.invalidationsByTable().keySet()) {
            if (invalidatedTables.add(table)) {
                FunctionCounter.builder("sluice.cache.invalidations", c, r -> r.invalidationsByTable().getOrDefault(table, 0L))
                        .description("Invalidations of cached reads by writes through this Sluice instance, by table (* = all)")
                        .tag("table", table).register(registry);
            }
        }
    }

    private void bindNode(String node) {
        gauge("sluice.node.lag", "Replication lag measured by heartbeat; NaN when unknown or for the primary", "seconds",
                node, r -> {
                    NodeStatus s = r.topology().status(node);
                    return s == null || s.lagMillis() == null ? Double.NaN : s.lagMillis() / 1000.0;
                });
        for (NodeState st : NodeState.values()) {
            Gauge.builder("sluice.node.state", router, r -> {
                NodeStatus s = r.topology().status(node);
                return s != null && s.state() == st ? 1 : 0;
            }).description("1 for the node's current health state, 0 for the others")
                    .tag("node", node).tag("state", st.name()).register(registry);
        }
        for (NodeRole role : NodeRole.values()) {
            Gauge.builder("sluice.node.role", router, r -> {
                NodeStatus s = r.topology().status(node);
                return s != null && s.role() == role ? 1 : 0;
            }).description("1 for the node's role as last probed, 0 for the others")
                    .tag("node", node).tag("role", role.name()).register(registry);
        }
        gauge("sluice.node.circuit.open", "1 while live connection failures keep the node out of routing", null,
                node, r -> r.circuitOpen(node) ? 1 : 0);
        gauge("sluice.node.in.flight", "Statements running on the node now", null, node, r -> r.inFlight(node));
        counter("sluice.routed.statements", "Statement cycles routed to the node", node, r -> r.routedTo(node));
        FunctionCounter.builder("sluice.node.errors", router, r -> r.connectionFailures(node))
                .description("Failures talking to the node: kind=connection on live traffic (opens its circuit), kind=probe by the health monitor")
                .tag("node", node).tag("kind", "connection").register(registry);
        FunctionCounter.builder("sluice.node.errors", router, r -> r.probeFailures(node))
                .description("Failures talking to the node: kind=connection on live traffic (opens its circuit), kind=probe by the health monitor")
                .tag("node", node).tag("kind", "probe").register(registry);
        counter("sluice.node.down", "Times the node went DOWN (probes or an opened circuit)", node, r -> r.generation(node));
    }

    private void bindRouter() {
        Gauge.builder("sluice.parse.cache.hit.ratio", router, r -> r.classifier().cacheStats().hitRate())
                .description("Share of classifications answered by the parse cache (1 before any)").register(registry);
        FunctionCounter.builder("sluice.parse.cache.requests", router, r -> r.classifier().cacheStats().hitCount())
                .description("Parse cache lookups by result").tag("result", "hit").register(registry);
        FunctionCounter.builder("sluice.parse.cache.requests", router, r -> r.classifier().cacheStats().missCount())
                .description("Parse cache lookups by result").tag("result", "miss").register(registry);
        Gauge.builder("sluice.parse.cache.entries", router, r -> r.classifier().cachedEntries())
                .description("Statement texts in the parse cache (approximate)").register(registry);
        FunctionCounter.builder("sluice.unparsed.statements", router, r -> r.classifier().unparsedCount())
                .description("Statements the parser could not read (routed to the primary)").register(registry);
        FunctionCounter.builder("sluice.failovers", router, r -> r.epoch() - 1)
                .description("Promotions made by Sluice (failovers and switchovers) since start").register(registry);
        Gauge.builder("sluice.epoch", router, Router::epoch)
                .description("Topology epoch: incremented by every promotion").register(registry);
    }

    /** Client and backend connection counts, once the proxy exists (it needs this as its cycle timer first). */
    public void bind(java.util.function.IntSupplier clients, java.util.function.Supplier<java.util.Map<String, Integer>> backends) {
        // strongReference: a Gauge holds its state object weakly, and these suppliers are method references nothing
        // else keeps (pg::clientCount): after the first garbage collection both gauges read NaN
        Gauge.builder("sluice.client.connections", clients, java.util.function.IntSupplier::getAsInt)
                .description("Client connections to the proxy now").strongReference(true).register(registry);
        for (String node : latency.keySet()) {
            Gauge.builder("sluice.backend.connections", backends, b -> b.get().getOrDefault(node, 0))
                    .description("Backend connections open to the node (in use and idle)").tag("node", node)
                    .strongReference(true).register(registry);
        }
    }

    /** Alert outcomes: sent, suppressed (de-duplicated), dropped (queue full), failed (per receiver). */
    public void bindAlerts(dev.sluice.proxy.alert.Alerts alerts) {
        String d = "Alerts by outcome: sent (reached a receiver), suppressed as repeats, dropped (queue full), failed (deliveries, per receiver)";
        counter("sluice.alerts", d, "outcome", "sent", alerts, dev.sluice.proxy.alert.Alerts::sent);
        counter("sluice.alerts", d, "outcome", "suppressed", alerts, dev.sluice.proxy.alert.Alerts::suppressed);
        counter("sluice.alerts", d, "outcome", "dropped", alerts, dev.sluice.proxy.alert.Alerts::dropped);
        counter("sluice.alerts", d, "outcome", "failed", alerts, dev.sluice.proxy.alert.Alerts::failed);
    }

    /**
     * Binds an extra counter to this registry (e.g. alert delivery outcomes). Micrometer holds {@code owner}
     * weakly: it must be an object the proxy keeps, not a lambda.
     */
    public <T> void counter(String name, String description, String tagKey, String tagValue, T owner, ToDoubleFunction<T> f) {
        FunctionCounter.builder(name, owner, f).description(description).tag(tagKey, tagValue).register(registry);
    }

    @Override
    public void record(String node, long nanos) {
        Timer t = latency.get(node);
        if (t != null) {
            t.record(nanos, TimeUnit.NANOSECONDS);
        }
    }

    /** The exposition text; see {@link #CONTENT_TYPE}. */
    public String scrape() {
        registerNewFallbackReasons();
        if (router.readCache().enabled()) {
            registerNewInvalidatedTables();
        }
        return registry.scrape();
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /** Fallback reasons appear as routing meets them (e.g. a per-statement lag budget): counted from then on. */
    private void registerNewFallbackReasons() {
        for (String reason : router.fallbacks().keySet()) {
            if (fallbackReasons.add(reason)) {
                FunctionCounter.builder("sluice.fallbacks", router, r -> r.fallbacks().getOrDefault(reason, 0L))
                        .description("Reads that wanted a replica but went to the primary, by reason")
                        .tag("reason", reason.toLowerCase(Locale.ROOT)).register(registry);
            }
        }
    }

    private void gauge(String name, String description, String unit, String node, ToDoubleFunction<Router> f) {
        Gauge.builder(name, router, f).description(description).baseUnit(unit).tag("node", node).register(registry);
    }

    private void counter(String name, String description, String node, ToDoubleFunction<Router> f) {
        FunctionCounter.builder(name, router, f).description(description).tag("node", node).register(registry);
    }
}
