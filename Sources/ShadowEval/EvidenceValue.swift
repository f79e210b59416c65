/// One piece of evidence attached to a trial event: a number or a string.
///
/// Evidence is a dictionary `[String: EvidenceValue]` (see ``Evidence``) so the
/// Sentinel module can write it to the audit and to `state.trials[name]`
/// without knowing the judge's internals.
public enum EvidenceValue: Sendable, Hashable, CustomStringConvertible {
    /// A number (rates, latencies in seconds, z scores, counts, durations in seconds).
    case number(Double)
    /// A string (reasons, metric names, statuses).
    case string(String)

    /// The number, if this is one.
    public var number: Double? {
        if case .number(let value) = self { return value }
        return nil
    }

    /// The string, if this is one.
    public var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The value as text.
    public var description: String {
        switch self {
        case .number(let value): "\(value)"
        case .string(let value): value
        }
    }
}

/// The evidence of a trial event or verdict, by key.
public typealias Evidence = [String: EvidenceValue]
