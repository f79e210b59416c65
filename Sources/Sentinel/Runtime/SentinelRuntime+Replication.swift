import Resilience

/// Reading the runtime's shared state as a ``DesiredState``, and applying
/// one decided elsewhere: how a fleet's instances end up alike.
extension SentinelRuntime {
    /// The state this instance holds now. With `memory`, each script's
    /// `memory` too (what a leader shares; followers' scripts do not run).
    public func desiredState(memory: Bool) async -> DesiredState {
        var values: [String: JSONValue] = [:]
        let changes = plane.lastChanges
        for info in plane.registry.parameters() {
            values[DesiredState.parameterPrefix + info.name] = [
                "value": .double(info.value), "shadow": info.shadow.map { .double($0) } ?? .null,
                "last_change": changes[info.name]?.replicatedValue ?? .null,
            ]
        }
        if let frozen = plane.frozen {
            values[DesiredState.freezeKey] = [
                "by": .string(frozen.by), "reason": frozen.reason.map { .string($0) } ?? .null, "since": .double(frozen.since),
            ]
        }
        values[DesiredState.trialsKey] = trials.persisted()
        values[DesiredState.approvalsKey] = approvals.persisted()
        for name in await engine.pausedScripts { values[DesiredState.pausedPrefix + name] = true }
        if memory {
            for (name, value) in await engine.memories().values { values[DesiredState.memoryPrefix + name] = value }
        }
        return DesiredState(values)
    }

    /// Applies values decided elsewhere, as they were decided: knobs are
    /// checked against their bounds only (guards were passed once, where the
    /// decision was made) and the freeze holds nothing back. `memory` keys are
    /// applied only with `memory` (by an instance about to lead). Returns one
    /// line per value not applied (a knob not registered here, a bad value).
    @discardableResult
    public func applyReplicated(_ changes: [String: JSONValue?], memory: Bool) async -> [String] {
        var problems: [String] = []
        for key in changes.keys.sorted() {
            // A JSON null is a removal too (a value never is null).
            let value = changes[key]!.flatMap { $0 == .null ? JSONValue?.none : .some($0) }
            if key.hasPrefix(DesiredState.parameterPrefix) {
                let name = String(key.dropFirst(DesiredState.parameterPrefix.count))
                guard let value, let live = value["value"].doubleValue else {
                    if value != nil { problems.append("\(name): a replicated value without a number; not applied") }
                    continue
                }
                let shadow = value["shadow"].doubleValue
                do throws(KnobError) {
                    try plane.writer.apply([.set(name, live), shadow.map { .setShadow(name, $0) } ?? .clearShadow(name)])
                    plane.setLastChange(of: name, KnobChangeRecord(replicated: value["last_change"]))
                } catch {
                    problems.append("\(name): replicated value \(live) not applied: \(error.message)")
                }
            } else if key == DesiredState.freezeKey {
                plane.setFrozen(
                    value.map {
                        ControlPlane.Frozen(
                            by: $0["by"].stringValue ?? "another instance", reason: $0["reason"].stringValue,
                            since: $0["since"].doubleValue ?? plane.now)
                    })
            } else if key == DesiredState.trialsKey {
                problems += trials.restore(value ?? .array([]), replacing: true)
            } else if key == DesiredState.approvalsKey {
                problems += approvals.restore(value ?? .array([]), replacing: true)
            } else if key.hasPrefix(DesiredState.pausedPrefix) {
                await engine.setPaused(String(key.dropFirst(DesiredState.pausedPrefix.count)), value?.boolValue == true)
            } else if key.hasPrefix(DesiredState.memoryPrefix) {
                guard memory, let value else { continue }
                if let problem = await engine.restoreMemory(value, of: String(key.dropFirst(DesiredState.memoryPrefix.count))) {
                    problems.append(problem)
                }
            } else {
                problems.append("\(key): not a key of the desired state this version knows; ignored")
            }
        }
        return problems
    }
}

extension KnobChangeRecord {
    /// `{ actor, time (Unix seconds), reason }`: exact, for replication.
    var replicatedValue: JSONValue {
        ["actor": .string(actor), "time": .double(time), "reason": reason.map { .string($0) } ?? .null]
    }

    init?(replicated value: JSONValue) {
        guard let actor = value["actor"].stringValue, let time = value["time"].doubleValue else { return nil }
        self.init(actor: actor, time: time, reason: value["reason"].stringValue)
    }
}

extension ControlPlane {
    /// Records a change decided elsewhere: its record, and its time for `min_interval` guards (a new leader
    /// waits out an interval begun on another instance).
    func setLastChange(of knob: String, _ record: KnobChangeRecord?) {
        let instant = record.map { time.now() - Int64(((now - $0.time) * 1e9).rounded()) }
        state.withLock { state in
            state.lastChangeRecords[knob] = record
            if let instant, instant > (state.lastChange[knob] ?? .min) { state.lastChange[knob] = instant }
        }
    }
}
