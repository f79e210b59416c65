/// One failed call to an ``AuditSink``, as ``AuditLog/lastError`` reports it.
public struct AuditSinkFailure: Sendable, Hashable, CustomStringConvertible {
    /// The sink's description (for a file sink, `AuditFileSink(/var/log/sentinel/audit.jsonl)`).
    public var sink: String
    /// The call that failed: `write`, `flush` or `close`.
    public var operation: String
    /// The error, described (`write /var/log/sentinel/audit.jsonl: no space left on device (ENOSPC)`).
    public var message: String

    /// Makes a failure record.
    public init(sink: String, operation: String, message: String) {
        self.sink = sink
        self.operation = operation
        self.message = message
    }

    /// `sink operation: message`.
    public var description: String { "\(sink) \(operation): \(message)" }
}
