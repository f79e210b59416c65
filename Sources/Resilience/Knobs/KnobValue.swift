/// A value an ``Adaptive`` knob can hold: converts to and from the `Double` the
/// registry and the lock-free slots store.
public protocol KnobValue: Sendable {
    /// Makes the value from its stored number.
    init(knobNumber: Double)
    /// The value as a stored number (durations in seconds).
    var knobNumber: Double { get }
}

extension Double: KnobValue {
    /// The number itself.
    @inlinable public init(knobNumber: Double) { self = knobNumber }
    /// The number itself.
    @inlinable public var knobNumber: Double { self }
}

extension Int: KnobValue {
    /// The number, rounded toward zero and clamped.
    @inlinable public init(knobNumber: Double) {
        self = knobNumber >= 9.2e18 ? .max : (knobNumber <= -9.2e18 ? .min : Int(knobNumber))
    }
    /// The integer as a number.
    @inlinable public var knobNumber: Double { Double(self) }
}

extension Duration: KnobValue {
    /// A duration from seconds.
    @inlinable public init(knobNumber: Double) { self = .secondsClamped(knobNumber) }
    /// The duration in seconds.
    @inlinable public var knobNumber: Double { secondsDouble }
}

extension Bool: KnobValue {
    /// `true` for any non-zero number.
    @inlinable public init(knobNumber: Double) { self = knobNumber != 0 }
    /// `1` or `0`.
    @inlinable public var knobNumber: Double { self ? 1 : 0 }
}
