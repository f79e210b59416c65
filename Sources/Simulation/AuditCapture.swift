import Resilience
import Sentinel

/// An audit sink that keeps every entry of a simulated run with the knob's
/// live value before and after it, read as the entry is written (the control
/// plane audits right after applying), so the output can say `from → to`.
final class AuditCapture: AuditSink {
    struct Captured: Sendable {
        var entry: AuditEntry
        var from: Double?
        var to: Double?
        /// For trial entries: each of the trial's knobs whose live value changed, with (from, to).
        var changes: [(knob: String, from: Double, to: Double)] = []
    }

    private struct State {
        var pending: [Captured] = []
        var all: [AuditEntry] = []
        var live: [String: Double] = [:]
        var lowest: [String: Double] = [:]
        var highest: [String: Double] = [:]

        mutating func record(_ name: String, _ value: Double) {
            live[name] = value
            lowest[name] = Swift.min(lowest[name] ?? value, value)
            highest[name] = Swift.max(highest[name] ?? value, value)
        }
    }

    /// The registry of the instance that decides (in a fleet, the leader's: its entries are about it).
    private let followed: Locked<ParameterRegistry>
    private var registry: ParameterRegistry { followed.withLock { $0 } }
    private let state = Locked(State())

    init(registry: ParameterRegistry) {
        followed = Locked(registry)
        observeAllKnobs()
    }

    /// Reads knobs from `registry` from now on (a new leader's).
    func follow(_ registry: ParameterRegistry) {
        followed.withLock { $0 = registry }
    }

    func write(_ entry: AuditEntry) throws {
        let current = entry.target.flatMap { try? registry.value($0) }
        var trialKnobs: [(String, Double)] = []
        if entry.action.hasPrefix("trial."), case .object(let args) = entry.args, case .object(let params)? = args["params"] {
            trialKnobs = params.keys.sorted().compactMap { knob in (try? registry.value(knob)).map { (knob, $0) } }
        }
        state.withLock { state in
            var captured = Captured(entry: entry)
            for (knob, value) in trialKnobs {
                if let before = state.live[knob], before != value { captured.changes.append((knob, before, value)) }
                state.record(knob, value)
            }
            if let target = entry.target, let current {
                let before = state.live[target]
                if before != current {
                    captured.from = before
                    captured.to = current
                }
                state.record(target, current)
            }
            state.pending.append(captured)
            state.all.append(entry)
        }
    }

    func flush() throws {}
    func close() throws {}

    /// Entries written since the last call, in order.
    func drain() -> [Captured] {
        state.withLock { state in
            defer { state.pending.removeAll(keepingCapacity: true) }
            return state.pending
        }
    }

    /// Reads every knob's live value again (changes made without an audit entry count too).
    func observeAllKnobs() {
        let values = registry.parameters().map { ($0.name, $0.value) }
        state.withLock { state in
            for (name, value) in values { state.record(name, value) }
        }
    }

    var entries: [AuditEntry] { state.withLock { $0.all } }
    func lowest(_ name: String) -> Double? { state.withLock { $0.lowest[name] } }
    func highest(_ name: String) -> Double? { state.withLock { $0.highest[name] } }
}

/// One instance's audit, passed on to the run's ``AuditCapture`` while that
/// instance decides (a fleet's other instances load the same scripts and apply
/// the leader's decisions: the output says each thing once).
final class DecidingInstanceAudit: AuditSink {
    let capture: AuditCapture
    let instance: Int
    let deciding: Locked<Int>

    init(capture: AuditCapture, instance: Int, deciding: Locked<Int>) {
        self.capture = capture
        self.instance = instance
        self.deciding = deciding
    }

    func write(_ entry: AuditEntry) throws {
        guard deciding.withLock({ $0 }) == instance else { return }
        try capture.write(entry)
    }

    func flush() throws {}
    func close() throws {}
}
