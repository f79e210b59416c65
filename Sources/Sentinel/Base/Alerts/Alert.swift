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
