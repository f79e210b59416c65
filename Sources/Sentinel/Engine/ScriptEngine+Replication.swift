import ScriptHost

/// What fleet mode reads from and puts into the engine: each script's
/// `memory` (so that a new leader continues where the last one stood) and
/// which scripts an operator paused (so that a pause reaches every instance).
extension ScriptEngine {
    /// Each script's `memory` as JSON, by script name. A memory holding what
    /// JSON cannot carry (a function) is left out and reported in `problems`.
    public func memories() -> (values: [String: JSONValue], problems: [String]) {
        var values: [String: JSONValue] = [:]
        var problems: [String] = []
        for (name, slot) in slots {
            do {
                values[name] = JSONValue(try slot.active.sandbox.value(of: slot.active.memory))
            } catch {
                problems.append("\(name): memory cannot be copied: \(error.message)")
            }
        }
        return (values, problems)
    }

    /// Puts `value` in the memory of the script named `name`. Returns why not,
    /// when the script is not loaded here or its sandbox refused the value.
    public func restoreMemory(_ value: JSONValue, of name: String) -> String? {
        guard let slot = slots[name] else { return "\(name): no such script is loaded here; its memory is not restored" }
        do {
            try slot.active.replaceMemory(with: LuaValue(value))
            return nil
        } catch {
            return "\(name): memory not restored: \(error.message)"
        }
    }

    /// The scripts an operator paused.
    public var pausedScripts: Set<String> { Set(slots.filter { $0.value.paused }.keys) }

    /// Pauses or resumes `name` as another instance decided (no audit here:
    /// the caller audits the decision it applies).
    public func setPaused(_ name: String, _ paused: Bool) {
        guard var slot = slots[name], slot.paused != paused else { return }
        slot.paused = paused
        if !paused { slot.nextDue = max(slot.nextDue, plane.time.now()) }
        slots[name] = slot
    }
}
