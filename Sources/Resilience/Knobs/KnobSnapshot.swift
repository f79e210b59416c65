/// One consistent, immutable configuration of every knob of a pipeline.
///
/// A call takes the current snapshot once, at its start (an atomic load and a
/// retain), and reads every knob from it; a batch of changes applied with
/// ``ParameterRegistry/apply(_:)`` publishes a new snapshot in one atomic
/// store, so a call sees a batch entirely or not at all.
public final class KnobSnapshot: Sendable {
    @usableFromInline let live: ContiguousArray<Double>
    @usableFromInline let shadow: ContiguousArray<Double>
    /// Bit `i` is set when slot `i` has a shadow value.
    public let shadowMask: UInt32
    /// The table's version: +1 per applied batch.
    public let version: UInt64

    init(live: [Double], shadow: [Double?], version: UInt64) {
        self.live = ContiguousArray(live)
        var mask: UInt32 = 0
        var values = ContiguousArray<Double>(repeating: .nan, count: shadow.count)
        for (i, value) in shadow.enumerated() {
            if let value {
                mask |= 1 << UInt32(i)
                values[i] = value
            }
        }
        self.shadow = values
        self.shadowMask = mask
        self.version = version
    }

    /// The live value of slot `index`.
    @inlinable @inline(__always)
    public func value(_ index: Int) -> Double { live[index] }

    /// The shadow value of slot `index`, if it has one.
    @inlinable @inline(__always)
    public func shadowValue(_ index: Int) -> Double? {
        shadowMask & (1 << UInt32(index)) != 0 ? shadow[index] : nil
    }

    /// The value the shadow configuration uses for slot `index`: its shadow if set, else live.
    @inlinable @inline(__always)
    public func effectiveShadow(_ index: Int) -> Double {
        shadowMask & (1 << UInt32(index)) != 0 ? shadow[index] : live[index]
    }

    /// Whether any knob has a shadow value.
    @inlinable
    public var hasShadows: Bool { shadowMask != 0 }
}
