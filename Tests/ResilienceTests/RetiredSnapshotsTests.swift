import Testing

@testable import Resilience

@Suite struct RetiredSnapshotsTests {
    func snapshot(_ version: UInt64) -> KnobSnapshot { KnobSnapshot(live: [1], shadow: [nil], version: version) }

    @Test func keepsEverySnapshotThroughItsGracePeriod() {
        var retired = RetiredSnapshots()
        let start = ContinuousClock.now
        for version in 0..<1000 { retired.append(snapshot(UInt64(version)), at: start) }
        retired.release(olderThan: .seconds(1), keeping: 64, now: start + .milliseconds(999))
        #expect(retired.count == 1000)
    }

    @Test func releasesTheOldestOnceTheirGraceIsOverButKeepsTheNewest() {
        var retired = RetiredSnapshots()
        let start = ContinuousClock.now
        weak var oldest: KnobSnapshot?
        do {
            let first = snapshot(0)
            oldest = first
            retired.append(first, at: start)
        }
        for version in 1..<1000 { retired.append(snapshot(UInt64(version)), at: start + .milliseconds(version)) }
        // At 1.5 s, those retired before 0.5 s are past their second of grace.
        retired.release(olderThan: .seconds(1), keeping: 64, now: start + .milliseconds(1500))
        #expect(retired.count == 500)
        #expect(oldest == nil, "a released snapshot is freed")
        retired.release(olderThan: .seconds(1), keeping: 64, now: start + .seconds(60))
        #expect(retired.count == 64)
    }

    @Test func compactingKeepsTheOrder() {
        var retired = RetiredSnapshots()
        let start = ContinuousClock.now
        // Many rounds of append-then-release, as a busy writer does: the queue
        // compacts as it goes and still releases oldest first.
        for round in 0..<50 {
            for step in 0..<100 {
                retired.append(snapshot(UInt64(round * 100 + step)), at: start + .milliseconds(round * 100 + step))
            }
            retired.release(olderThan: .seconds(1), keeping: 64, now: start + .milliseconds(round * 100 + 99))
            #expect(retired.count == min((round + 1) * 100, 1001))
        }
    }
}
