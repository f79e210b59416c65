/// One knob in the state file: its live value and, when a shadow is being
/// tried, its shadow value.
public struct PersistedParameter: Sendable, Hashable {
    /// The live value (durations in seconds).
    public var value: Double
    /// The shadow value, when one is set.
    public var shadow: Double?

    /// Makes a parameter record.
    public init(value: Double, shadow: Double? = nil) {
        self.value = value
        self.shadow = shadow
    }
}
