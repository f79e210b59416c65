import Synchronization

/// A random source that many tasks can draw from at once without a lock.
///
/// Each draw takes the next value of an atomic counter and scrambles it with
/// the SplitMix64 finalizer, so the sequence of draws is fixed by the seed
/// (the order in which concurrent tasks receive them is not).
public final class SharedRandom: Sendable {
    private let counter: Atomic<UInt64>

    /// Makes a source from a seed.
    public init(seed: UInt64) {
        counter = Atomic(seed)
    }

    /// The next 64 random bits.
    @inline(__always)
    public func next() -> UInt64 {
        let value = counter.wrappingAdd(0x9E37_79B9_7F4A_7C15, ordering: .relaxed).newValue
        return SplitMix64.mix(value)
    }

    /// A uniform `Double` in `0..<1`.
    @inline(__always)
    public func nextUnit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }
}
