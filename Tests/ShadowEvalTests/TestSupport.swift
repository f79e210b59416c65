import Resilience
import ShadowEval
import Synchronization

/// Seconds as nanoseconds.
func seconds(_ value: Int64) -> Int64 { value * 1_000_000_000 }

/// Hand-made window statistics: `failures` includes `timeouts` and `rejections`.
func stats(
    calls: Int, failures: Int = 0, timeouts: Int = 0, rejections: Int = 0, unknown: Int = 0, p99: Double = 0.100
) -> WindowStats {
    WindowStats(
        calls: calls, successes: calls - failures, failures: failures, timeouts: timeouts,
        rejections: rejections, breakerRejections: rejections, bulkheadRejections: 0, rateLimiterRejections: 0,
        unknown: unknown, errorRate: calls > 0 ? Double(failures) / Double(calls) : 0,
        p50: p99 / 4, p90: p99 / 2, p99: p99, max: p99 * 1.5)
}

/// Live traffic: 1000 calls, 0.5 % errors, p99 100 ms.
let liveStats = stats(calls: 1000, failures: 5)
/// A better shadow: 1000 calls, 0.2 % errors, p99 80 ms.
let betterShadow = stats(calls: 1000, failures: 2, p99: 0.080)
/// A clearly worse shadow: 1000 calls, 5 % errors.
let worseShadow = stats(calls: 1000, failures: 50)
/// Too little traffic for the default 100 min_samples.
let quietStats = stats(calls: 40, failures: 0)

/// A trial with a 60 s window, 10 s interval, 100 min samples, K = 3, 30 s watch.
func configuration(
    params: [String: Double] = ["checkout.timeout.duration": 0.3], watch: Int64 = seconds(30)
) -> TrialConfiguration {
    TrialConfiguration(
        name: "tighter", params: params, window: seconds(60), interval: seconds(10),
        minSamples: 100, maxViolations: 3, watch: watch)
}

/// Starts a trial at time 0 with live value 0.5 for every knob.
func startedTrial(_ configuration: TrialConfiguration = configuration()) throws -> ShadowTrial {
    let live = configuration.params.mapValues { _ in 0.5 }
    return try ShadowTrial.start(configuration, now: 0, liveValues: live).0
}

/// Collects events.
final class RecordingSink: TrialEventSink {
    private let recorded = Mutex<[TrialEvent]>([])
    var events: [TrialEvent] { recorded.withLock { $0 } }
    func record(_ event: TrialEvent, trial: ShadowTrial) { recorded.withLock { $0.append(event) } }
}

/// A registry that also records every batch it is asked to apply.
final class CountingStore: TrialKnobStore {
    let registry: ParameterRegistry
    private let batches = Mutex<[[KnobOperation]]>([])
    init(_ registry: ParameterRegistry) { self.registry = registry }
    var applied: [[KnobOperation]] { batches.withLock { $0 } }
    func value(_ name: String) throws(KnobError) -> Double { try registry.value(name) }
    func apply(_ operations: [KnobOperation]) throws(KnobError) {
        batches.withLock { $0.append(operations) }
        try registry.apply(operations)
    }
}
