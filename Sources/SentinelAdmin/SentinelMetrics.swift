import Metrics
import Prometheus

/// Prometheus for a sentinel in one call.
public enum SentinelMetrics {
    /// Makes a Prometheus registry and bootstraps swift-metrics with it, so
    /// every metric of the sentinel (and of anything else in the process that
    /// uses swift-metrics) is exported. Call it once, before the first metric
    /// is made; serve the registry through ``AdminService`` (or `emit` it
    /// from an endpoint of your own).
    ///
    /// ```swift
    /// let registry = SentinelMetrics.bootstrapPrometheus()
    /// ```
    public static func bootstrapPrometheus() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }
}
