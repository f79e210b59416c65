/// One consistent reading of every knob of a pipeline, taken at the start of a call.
///
/// A call reads its pipeline's knobs once, as this value, and uses it
/// throughout; a batch of changes applied with ``ParameterRegistry/apply(_:)``
/// is seen by a call either entirely or not at all. Reading it costs a handful
/// of atomic loads and no lock.
public struct KnobSnapshot: Sendable {
    /// Live values by slot.
    @usableFromInline var live: SIMD32<Double>
    /// Shadow values by slot (meaningful where `shadowMask` has the slot's bit).
    @usableFromInline var shadow: SIMD32<Double>
    /// Bit `i` is set when slot `i` has a shadow value.
    public let shadowMask: UInt32
    /// The table's version: +1 per applied batch.
    public let version: UInt64

    @inlinable
    init(live: SIMD32<Double>, shadow: SIMD32<Double>, shadowMask: UInt32, version: UInt64) {
        self.live = live
        self.shadow = shadow
        self.shadowMask = shadowMask
        self.version = version
    }

    /// The live value of slot `index`.
    @inlinable
    public func value(_ index: Int) -> Double { live[index] }

    /// The shadow value of slot `index`, if it has one.
    @inlinable
    public func shadowValue(_ index: Int) -> Double? {
        shadowMask & (1 << UInt32(index)) != 0 ? shadow[index] : nil
    }

    /// The value the shadow configuration uses for slot `index`: its shadow if set, else live.
    @inlinable
    public func effectiveShadow(_ index: Int) -> Double {
        shadowMask & (1 << UInt32(index)) != 0 ? shadow[index] : live[index]
    }

    /// Whether any knob has a shadow value.
    @inlinable
    public var hasShadows: Bool { shadowMask != 0 }
}
