/// Where `sentinel.alert` and the sentinel's own alerts (a suspended script)
/// go, besides swift-log. Implement it to page someone.
public protocol AlertSink: Sendable {
    func send(_ alert: Alert) async
}

extension Alert {
    /// `{ fields, message, severity, source, time }` with an RFC 3339 time.
    public var jsonValue: JSONValue {
        [
            "time": .string(RFC3339.string(fromUnixSeconds: time)), "source": .string(source),
            "severity": .string(severity.rawValue), "message": .string(message), "fields": .object(fields),
        ]
    }
}
