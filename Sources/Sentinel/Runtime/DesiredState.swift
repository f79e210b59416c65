/// What a fleet's instances share, as keyed JSON values: what the leader (or
/// an operator at any instance) decided, that every instance applies.
///
/// Keys:
/// - `param/NAME`: `{ "value", "shadow" (or null), "last_change" }` for each knob;
/// - `freeze`: `{ "by", "reason", "since" }` while automation is frozen;
/// - `trials`: the shadow trials, as in the state file;
/// - `approvals`: the approval gates, as in the state file;
/// - `paused/SCRIPT`: `true` while an operator keeps a script paused;
/// - `memory/SCRIPT`: a script's `memory` (the leader's; applied when an
///   instance becomes the leader, so it continues where the last one stood).
///
/// A key that is absent is not set: the freeze lifted, a script resumed.
/// ``changes(from:)`` is what to write to go from one state to another.
public struct DesiredState: Sendable, Hashable {
    public var values: [String: JSONValue]

    public init(_ values: [String: JSONValue] = [:]) {
        self.values = values
    }

    public static let parameterPrefix = "param/"
    public static let pausedPrefix = "paused/"
    public static let memoryPrefix = "memory/"
    public static let freezeKey = "freeze"
    public static let trialsKey = "trials"
    public static let approvalsKey = "approvals"

    /// The keys whose values differ from `earlier`, with their new values
    /// (nil: the key was removed).
    public func changes(from earlier: DesiredState) -> [String: JSONValue?] {
        var changes: [String: JSONValue?] = [:]
        for (key, value) in values where earlier.values[key] != value { changes[key] = .some(value) }
        for key in earlier.values.keys where values[key] == nil { changes[key] = .some(nil) }
        return changes
    }

    /// This state with `changes` applied.
    public func applying(_ changes: [String: JSONValue?]) -> DesiredState {
        var result = self
        for (key, value) in changes { result.values[key] = value }
        return result
    }
}
