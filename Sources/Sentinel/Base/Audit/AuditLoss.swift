/// Entries one sink never got, as the audit log closed: how many, from when
/// to when, and whether the sink noted them for the next start (which then
/// writes an `audit.dropped` entry).
public struct AuditLoss: Sendable, Hashable, CustomStringConvertible {
    /// The sink, as the log names it (`AuditFileSink(PATH)`).
    public var sink: String
    /// Entries lost.
    public var count: Int
    /// Unix seconds of the first and the last lost entry.
    public var first: Double
    public var last: Double
    /// Whether the sink kept a note for the next start.
    public var noted: Bool
    /// Why the note could not be kept, when it could not.
    public var noteError: String?

    /// `12 audit entries (2026-01-01T10:00:00Z to 10:05:00Z) were not written to SINK; ...`.
    public var description: String {
        let span = "\(RFC3339.string(fromUnixSeconds: first)) to \(RFC3339.string(fromUnixSeconds: last))"
        let next =
            noted
            ? "noted for the next start, which writes an audit.dropped entry"
            : "not noted for the next start" + (noteError.map { " (\($0))" } ?? "")
        return "\(count) audit entries (\(span)) were not written to \(sink); \(next)"
    }
}
