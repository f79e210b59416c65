/// A command a script issued during `evaluate`, applied after it returns.
struct QueuedCommand: Sendable, Hashable {
    var name: String
    var arguments: [String: JSONValue]
    var reason: String?
    var evidence: JSONValue?
}
