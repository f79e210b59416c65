import Resilience

extension ControlPlane {
    /// The control plane's state for the state file: every knob's live and
    /// shadow value, the freeze, and what other modules add.
    public func persistedState(
        trials: JSONValue = .object([:]), extensions: [String: JSONValue] = [:]
    ) -> PersistedState {
        var parameters: [String: PersistedParameter] = [:]
        for info in registry.parameters() {
            parameters[info.name] = PersistedParameter(value: info.value, shadow: info.shadow)
        }
        var extensions = extensions
        if let frozen {
            extensions["frozen_by"] = .string(frozen.by)
            if let reason = frozen.reason { extensions["frozen_reason"] = .string(reason) }
        }
        return PersistedState(
            version: PersistedState.currentVersion, savedAt: now, parameters: parameters, frozen: frozen != nil,
            trials: trials, extensions: extensions)
    }

    /// Applies a saved state: values of knobs that still exist (each checked
    /// against today's bounds), shadows, the freeze. Returns one line per
    /// thing not applied (a knob no longer registered, a value now out of
    /// bounds): reported, never silently applied or dropped.
    @discardableResult
    public func restore(_ state: PersistedState) -> [String] {
        var problems: [String] = []
        for name in state.parameters.keys.sorted() {
            let saved = state.parameters[name]!
            var operations: [KnobOperation] = [.set(name, saved.value)]
            if let shadow = saved.shadow { operations.append(.setShadow(name, shadow)) }
            do {
                // Bounds only: a restore puts back what was decided before, guards and freeze included.
                try writer.apply(operations)
            } catch {
                if error.code == .unknownKnob || error.code == .malformedName {
                    problems.append("\(name): saved value \(saved.value) not applied: the knob is no longer registered")
                } else {
                    problems.append("\(name): saved value not applied: \(error.message)")
                }
            }
        }
        if state.frozen {
            setFrozen(
                Frozen(
                    by: state.extensions["frozen_by"]?.stringValue ?? "state file",
                    reason: state.extensions["frozen_reason"]?.stringValue, since: now))
        }
        return problems
    }
}
