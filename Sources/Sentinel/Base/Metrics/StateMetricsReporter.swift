import Metrics
import Resilience

/// Reports each pipeline's windowed statistics and each knob's value through
/// swift-metrics, so any backend (swift-prometheus, StatsD, ...) can expose
/// them. Call ``report(_:)`` with each new ``SystemState`` (the sentinel does
/// on every tick).
///
/// | metric | type | dimensions |
/// | --- | --- | --- |
/// | `sentinel_pipeline_calls` | gauge | `pipeline`, `window` |
/// | `sentinel_pipeline_failures` | gauge | `pipeline`, `window` |
/// | `sentinel_pipeline_timeouts` | gauge | `pipeline`, `window` |
/// | `sentinel_pipeline_rejections` | gauge | `pipeline`, `window` |
/// | `sentinel_pipeline_error_rate` | gauge | `pipeline`, `window` |
/// | `sentinel_pipeline_latency_seconds` | gauge | `pipeline`, `window`, `quantile` (`0.5`, `0.9`, `0.99`, `1`) |
/// | `sentinel_breaker_state` | gauge: 0 closed, 1 half open, 2 open | `pipeline` |
/// | `sentinel_bulkhead_in_use`, `sentinel_bulkhead_queued`, `sentinel_bulkhead_capacity` | gauge | `pipeline` |
/// | `sentinel_knob_value`, `sentinel_knob_shadow` | gauge | `knob` |
public final class StateMetricsReporter: Sendable {
    private let factory: any MetricsFactory
    private let gauges = Locked<[GaugeKey: Gauge]>([:])

    private struct GaugeKey: Hashable {
        var label: String
        var dimensions: [String]
    }

    /// Reports through `factory` (the bootstrapped global one by default).
    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
    }

    /// Records one snapshot.
    public func report(_ state: SystemState) {
        for name in state.pipelineNames {
            guard let pipeline = state.pipeline(name) else { continue }
            for window in StatisticsWindow.allCases {
                let stats = pipeline.window(window)
                let dimensions = [("pipeline", name), ("window", window.rawValue)]
                gauge("sentinel_pipeline_calls", dimensions).record(stats.calls)
                gauge("sentinel_pipeline_failures", dimensions).record(stats.failures)
                gauge("sentinel_pipeline_timeouts", dimensions).record(stats.timeouts)
                gauge("sentinel_pipeline_rejections", dimensions).record(stats.rejections)
                gauge("sentinel_pipeline_error_rate", dimensions).record(stats.errorRate)
                for (quantile, value) in [("0.5", stats.p50), ("0.9", stats.p90), ("0.99", stats.p99), ("1", stats.max)] {
                    gauge("sentinel_pipeline_latency_seconds", dimensions + [("quantile", quantile)]).record(value)
                }
            }
            if let breaker = pipeline.breaker {
                let code: Int =
                    switch breaker.state {
                    case .closed: 0
                    case .halfOpen: 1
                    case .open: 2
                    }
                gauge("sentinel_breaker_state", [("pipeline", name)]).record(code)
            }
            if let bulkhead = pipeline.bulkhead {
                gauge("sentinel_bulkhead_in_use", [("pipeline", name)]).record(bulkhead.inUse)
                gauge("sentinel_bulkhead_queued", [("pipeline", name)]).record(bulkhead.queued)
                gauge("sentinel_bulkhead_capacity", [("pipeline", name)]).record(bulkhead.capacity)
            }
            for knob in pipeline.parameters {
                gauge("sentinel_knob_value", [("knob", knob.name)]).record(knob.value)
                if let shadow = knob.shadow {
                    gauge("sentinel_knob_shadow", [("knob", knob.name)]).record(shadow)
                }
            }
        }
    }

    private func gauge(_ label: String, _ dimensions: [(String, String)]) -> Gauge {
        let key = GaugeKey(label: label, dimensions: dimensions.flatMap { [$0.0, $0.1] })
        return gauges.withLock { gauges in
            if let gauge = gauges[key] { return gauge }
            let gauge = Gauge(label: label, dimensions: dimensions, factory: factory)
            gauges[key] = gauge
            return gauge
        }
    }
}
