import Metrics
import Resilience

/// The scripts' metrics through swift-metrics: how long each evaluation
/// took, failures, and ticks missed because the engine was late.
///
/// | metric | type | dimensions |
/// | --- | --- | --- |
/// | `sentinel_script_evaluation_seconds` | timer | `script` |
/// | `sentinel_script_failures_total` | counter | `script` |
/// | `sentinel_script_missed_ticks_total` | counter | `script` |
struct ScriptMetrics: Sendable {
    private let timers = Locked<[String: Metrics.Timer]>([:])
    private let failures = Locked<[String: Counter]>([:])
    private let missed = Locked<[String: Counter]>([:])

    func recordEvaluation(_ script: String, nanoseconds: Int64) {
        let timer = timers.withLock { timers in
            if let timer = timers[script] { return timer }
            let timer = Metrics.Timer(label: "sentinel_script_evaluation_seconds", dimensions: [("script", script)])
            timers[script] = timer
            return timer
        }
        timer.recordNanoseconds(nanoseconds)
    }

    func recordFailure(_ script: String) {
        counter(failures, "sentinel_script_failures_total", script).increment()
    }

    func recordMissedTicks(_ script: String, _ count: Int) {
        guard count > 0 else { return }
        counter(missed, "sentinel_script_missed_ticks_total", script).increment(by: count)
    }

    private func counter(_ table: Locked<[String: Counter]>, _ label: String, _ script: String) -> Counter {
        table.withLock { counters in
            if let counter = counters[script] { return counter }
            let counter = Counter(label: label, dimensions: [("script", script)])
            counters[script] = counter
            return counter
        }
    }
}
