/// A command a script issued during `evaluate`, applied after it returns.
struct QueuedCommand: Sendable, Hashable {
    var name: String
    var arguments: [String: JSONValue]
    var reason: String?
    var evidence: JSONValue?
}

/// An alert raised with `sentinel.alert`.
public struct Alert: Sendable, Hashable {
    public enum Severity: String, Sendable, Hashable, CaseIterable {
        case info, warning, critical
    }

    /// Unix seconds.
    public var time: Double
    /// `script:NAME` or `sentinel`.
    public var source: String
    public var severity: Severity
    public var message: String
    public var fields: [String: JSONValue]

    public init(time: Double, source: String, severity: Severity, message: String, fields: [String: JSONValue] = [:]) {
        self.time = time
        self.source = source
        self.severity = severity
        self.message = message
        self.fields = fields
    }
}

/// A line written with `sentinel.log`.
struct ScriptLogLine: Sendable, Hashable {
    enum Level: String, Sendable, CaseIterable { case debug, info, warning, error }
    var level: Level
    var message: String
}

/// What one evaluation produced.
struct EvaluationRecord: Sendable {
    var commands: [QueuedCommand] = []
    var alerts: [Alert] = []
    var logs: [ScriptLogLine] = []
}
