/// A knob whose value can change while requests read it: a live slot, an
/// optional shadow slot, bounds, a validator and a version.
///
/// Reading ``value`` is one atomic load. Writes are validated and serialized;
/// a refused write throws ``KnobError`` and changes nothing. A pipeline's knobs
/// are `Adaptive` handles into the pipeline's ``KnobTable``; a standalone knob
/// owns a table of one slot.
///
/// ```swift
/// let limit = try Adaptive(name: "search.bulkhead.max_concurrent", kind: .integer,
///                          default: 32, bounds: 1...4096)
/// try limit.setShadow(48)
/// try limit.promoteShadow()
/// for await change in limit.changes() { print(change.value) }
/// ```
public struct Adaptive<Value: KnobValue>: Sendable {
    /// The table holding this knob.
    public let table: KnobTable
    /// This knob's slot in the table.
    public let index: Int

    /// Wraps slot `index` of `table`.
    public init(table: KnobTable, index: Int) {
        self.table = table
        self.index = index
    }

    /// Makes a standalone knob.
    ///
    /// - Parameters:
    ///   - validator: returns a reason to refuse a value, or `nil` to accept it.
    /// - Throws: ``KnobError`` when the default itself is refused.
    public init(
        name: String,
        kind: KnobKind,
        default defaultValue: Value,
        bounds: ClosedRange<Double>,
        description: String = "",
        validator: (@Sendable (Double) -> String?)? = nil
    ) throws(KnobError) {
        let descriptor = KnobDescriptor(
            name: name, kind: kind, minimum: bounds.lowerBound, maximum: bounds.upperBound,
            defaultValue: defaultValue.knobNumber, description: description)
        if let validator, let reason = validator(defaultValue.knobNumber) {
            throw KnobError(.rejectedByValidator, knob: name, "\(name): \(reason)")
        }
        self.table = try KnobTable(descriptors: [descriptor], validators: [validator])
        self.index = 0
    }

    /// The knob's metadata.
    public var descriptor: KnobDescriptor { table.descriptors[index] }

    /// The live value (one atomic load, no lock).
    @inlinable
    public var value: Value { Value(knobNumber: table.liveValue(index)) }

    /// The shadow value, if any.
    public var shadow: Value? { table.read().shadowValue(index).map(Value.init(knobNumber:)) }

    /// The knob's version: +1 per change.
    public var version: UInt64 { table.entries()[index].version }

    /// Sets the live value.
    public func set(_ value: Value) throws(KnobError) {
        try table.apply([.set(index, value.knobNumber)])
    }

    /// Sets the shadow value; the live value is unchanged.
    public func setShadow(_ value: Value) throws(KnobError) {
        try table.apply([.setShadow(index, value.knobNumber)])
    }

    /// Removes the shadow value.
    public func clearShadow() throws(KnobError) {
        try table.apply([.clearShadow(index)])
    }

    /// Makes the shadow value live and removes the shadow, in one atomic step.
    public func promoteShadow() throws(KnobError) {
        try table.apply([.promote(index)])
    }

    /// Changes to this knob, as they are applied.
    public func changes() -> AsyncFilterSequence<AsyncStream<KnobChange>> {
        let name = descriptor.name
        return table.changes().filter { $0.knob == name }
    }
}
