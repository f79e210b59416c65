/// What a knob's number means; decides its unit and the checks every value gets.
public enum KnobKind: String, Sendable, Hashable, CaseIterable {
    /// A duration in seconds; never negative.
    case duration
    /// A whole number (attempts, calls, permits).
    case integer
    /// A fraction in `0...1` (failure rate, retry budget ratio).
    case ratio
    /// A traffic weight in percent, `0...100`.
    case weight
    /// Events per second; never negative.
    case rate
    /// A plain number (multipliers).
    case number

    /// The unit shown to operators.
    public var unit: String {
        switch self {
        case .duration: "s"
        case .integer: "count"
        case .ratio: "ratio"
        case .weight: "percent"
        case .rate: "per second"
        case .number: "number"
        }
    }
}
