/// Everything known about a knob except its current value.
public struct KnobDescriptor: Sendable, Hashable {
    /// Full name: `<pipeline>.<policy>.<knob>`, for example `checkout.retry.max_attempts`.
    public var name: String
    /// What the number means.
    public var kind: KnobKind
    /// Smallest accepted value.
    public var minimum: Double
    /// Largest accepted value.
    public var maximum: Double
    /// The value the knob starts with.
    public var defaultValue: Double
    /// One line for operators.
    public var description: String
    /// Whether a shadow value may be set (traffic split weights cannot be shadowed).
    public var shadowable: Bool
    /// Whether `0` means "no capacity" and is refused with ``KnobError/Code-swift.struct/zeroCapacity``.
    public var refusesZero: Bool

    /// The unit shown to operators.
    public var unit: String { kind.unit }

    /// Makes a descriptor.
    public init(
        name: String,
        kind: KnobKind,
        minimum: Double,
        maximum: Double,
        defaultValue: Double,
        description: String,
        shadowable: Bool = true,
        refusesZero: Bool = false
    ) {
        self.name = name
        self.kind = kind
        self.minimum = minimum
        self.maximum = maximum
        self.defaultValue = defaultValue
        self.description = description
        self.shadowable = shadowable
        self.refusesZero = refusesZero
    }

    /// Checks `value` against this knob's kind and bounds.
    ///
    /// - Returns: the value to store (unchanged).
    /// - Throws: ``KnobError`` naming this knob and the reason.
    public func validate(_ value: Double) throws(KnobError) -> Double {
        if value.isNaN {
            throw KnobError(.notANumber, knob: name, "\(name): NaN is not a value")
        }
        if value.isInfinite {
            throw KnobError(.notFinite, knob: name, "\(name): \(value) is not a finite number")
        }
        switch kind {
        case .duration where value < 0:
            throw KnobError(.negativeDuration, knob: name, "\(name): a duration cannot be negative (\(value) s)")
        case .weight where !(0...100).contains(value):
            throw KnobError(.weightOutOfRange, knob: name, "\(name): weight \(value) is outside 0...100")
        case .ratio where !(0...1).contains(value):
            throw KnobError(.outOfBounds, knob: name, "\(name): ratio \(value) is outside 0...1")
        case .rate where value < 0:
            throw KnobError(.outOfBounds, knob: name, "\(name): a rate cannot be negative (\(value))")
        case .integer where value.rounded(.towardZero) != value:
            throw KnobError(.notAnInteger, knob: name, "\(name): \(value) is not a whole number")
        default:
            break
        }
        if refusesZero && value == 0 {
            throw KnobError(.zeroCapacity, knob: name, "\(name): zero capacity would reject every call")
        }
        if value < minimum || value > maximum {
            throw KnobError(
                .outOfBounds, knob: name,
                "\(name): \(value) \(unit) is outside \(minimum)...\(maximum)"
            )
        }
        return value
    }
}
