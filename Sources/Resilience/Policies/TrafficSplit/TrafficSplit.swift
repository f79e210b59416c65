/// Routes each call to one of several named variants by weight (for example
/// `stable` and `canary`), sticky by a key when one is given.
///
/// Knobs: `<pipeline>.split.<variant>_weight` (percent, 0...100) for each
/// variant. Weights are relative: a variant's share is its weight over the
/// sum. With a key, the key's hash picks a point in `0..<1` and the variants
/// own consecutive ranges in declaration order, so as the first variant's
/// weight grows, keys already routed to it stay there. Declare the canary first.
/// Each variant has its own windowed statistics.
///
/// Shadow: not possible. A call goes to one variant only, so what another
/// weighting would have done cannot be observed; setting a shadow weight is
/// refused with `not_shadowable`. Compare variants instead.
public struct TrafficSplit: PipelinePolicy {
    /// Variant names and initial weights, in routing order.
    public var variants: [(name: String, weight: Double)]

    /// Makes a split, e.g. `TrafficSplit(["canary": 5, "stable": 95])` is not ordered;
    /// use the array form to fix the order.
    public init(_ variants: [(name: String, weight: Double)]) {
        self.variants = variants
    }

    /// The policy as a pipeline component.
    public var component: PipelineComponent { PipelineComponent(.split(self)) }

    static func knobs(_ pipeline: String, _ spec: TrafficSplit) -> [KnobDescriptor] {
        spec.variants.map { variant in
            KnobDescriptor(
                name: "\(pipeline).split.\(variant.name)_weight", kind: .weight, minimum: 0, maximum: 100,
                defaultValue: variant.weight, description: "Relative share of calls routed to \(variant.name)",
                shadowable: false)
        }
    }
}

/// The synchronous core of a traffic split: picks a variant for a point in `0..<1`.
public enum SplitCore {
    /// The index of the variant owning `point`, given weights; `0` when all weights are zero.
    @inlinable
    public static func choose(point: Double, weights: some Collection<Double>) -> Int {
        var total = 0.0
        for weight in weights { total += max(0, weight) }
        guard total > 0 else { return 0 }
        let target = point * total
        var cumulative = 0.0
        var index = 0
        for weight in weights {
            cumulative += max(0, weight)
            if target < cumulative { return index }
            index += 1
        }
        return max(0, index - 1)
    }

    /// A stable point in `0..<1` for a key (FNV-1a then SplitMix64; the same in every process).
    @inlinable
    public static func point(forKey key: String) -> Double {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in key.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        return Double(SplitMix64.mix(hash) >> 11) * 0x1.0p-53
    }
}
