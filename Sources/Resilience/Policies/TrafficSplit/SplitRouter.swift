/// The shell of a traffic split in a pipeline.
final class SplitRouter: Sendable {
    let names: [String]
    let firstSlot: Int
    let random: SharedRandom

    init(spec: TrafficSplit, firstSlot: Int, seed: UInt64) {
        names = spec.variants.map(\.name)
        self.firstSlot = firstSlot
        random = SharedRandom(seed: seed)
    }

    @inline(__always)
    func choose(key: String?, snapshot: KnobSnapshot) -> Int {
        let point = key.map(SplitCore.point(forKey:)) ?? random.nextUnit()
        var total = 0.0
        for i in 0..<names.count { total += snapshot.value(firstSlot + i) }
        guard total > 0 else { return 0 }
        let target = point * total
        var cumulative = 0.0
        for i in 0..<names.count {
            cumulative += snapshot.value(firstSlot + i)
            if target < cumulative { return i }
        }
        return names.count - 1
    }
}
