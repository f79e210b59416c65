/// How saving the state file goes: an episode of failures starts at the first
/// failed save and ends at the next good one.
public struct StateSaveHealth: Sendable, Hashable {
    /// Whether the last save failed.
    public private(set) var failing = false
    /// Failed saves in the current episode (0 when the last save worked).
    public private(set) var failures = 0
    /// Failed saves since the process started.
    public private(set) var totalFailures = 0
    /// The last failure, while failing.
    public private(set) var lastError: String?
    /// Unix seconds of the last good save.
    public private(set) var lastSuccess: Double?

    public init() {}

    mutating func failed(_ error: String) {
        failing = true
        failures += 1
        totalFailures += 1
        lastError = error
    }

    mutating func succeeded(at time: Double) {
        failing = false
        failures = 0
        lastError = nil
        lastSuccess = time
    }
}
