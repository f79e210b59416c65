/// One change in a batch applied atomically by ``ParameterRegistry/apply(_:)``.
public enum KnobOperation: Sendable, Hashable {
    /// Set the live value.
    case set(String, Double)
    /// Set the shadow value.
    case setShadow(String, Double)
    /// Remove the shadow value.
    case clearShadow(String)
    /// Make the shadow value live and remove the shadow.
    case promote(String)

    /// The knob this operation changes.
    public var knob: String {
        switch self {
        case .set(let name, _), .setShadow(let name, _), .clearShadow(let name), .promote(let name): name
        }
    }
}

/// A knob's change, as seen by observers of ``Adaptive/changes()`` and
/// ``ParameterRegistry/changes()``.
public struct KnobChange: Sendable, Hashable {
    /// What happened.
    public enum Action: String, Sendable, Hashable {
        /// The live value was set.
        case set
        /// A shadow value was set.
        case setShadow = "set_shadow"
        /// The shadow value was removed.
        case clearShadow = "clear_shadow"
        /// The shadow value became live.
        case promote
    }
    /// The knob's full name.
    public var knob: String
    /// What happened.
    public var action: Action
    /// The live value after the change.
    public var value: Double
    /// The shadow value after the change, if any.
    public var shadow: Double?
    /// The knob's version after the change (starts at 0, +1 per change).
    public var version: UInt64
}
