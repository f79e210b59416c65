import ShadowEval

extension TrialRunner {
    /// `state.trials`: every trial by name.
    public func stateView(now: Int64? = nil) -> [String: JSONValue] {
        let now = now ?? plane.time.now()
        return records.withLock { records in records.mapValues { view(of: $0, now: now) } }
    }

    func view(of record: TrialRecord, now: Int64) -> JSONValue {
        let trial = record.trial
        var fields: [String: JSONValue] = [
            "name": .string(trial.name), "status": .string(trial.status.rawValue),
            "elapsed": .double(Double(trial.elapsed(now: now)) / 1e9),
            "stable_for": .double(Double(trial.stableFor) / 1e9),
            "violations": .int(Int64(trial.violations)),
            "params": .object(trial.configuration.params.mapValues { .double($0) }),
            "previous": .object(trial.previousValues.mapValues { .double($0) }),
            "window": .double(Double(trial.configuration.window) / 1e9),
            "watch": .double(Double(trial.configuration.watch) / 1e9),
            "evidence": trial.lastEvidence.jsonValue,
            "warnings": .array(record.warnings.map { .string($0) }),
            "shadow_calls": .int(Int64(record.shadowCalls)),
            "held": .bool(trial.heldSince != nil),
            "judge": .string(trial.configuration.judge.rawValue),
        ]
        if let event = record.lastEvent { fields["last_event"] = .string(event.kind.rawValue) }
        return .object(fields)
    }
}
