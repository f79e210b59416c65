import PostgresNIO
import Resilience
import Sentinel
import Testing

@testable import SentinelFleet

/// Leadership, fencing and versioned writes against a real PostgreSQL server.
@Suite(
    .enabled(if: TestDatabase.runs, "no PostgreSQL server (SENTINEL_TEST_POSTGRES_URL); make test starts one"), .serialized,
    .timeLimit(.minutes(1)))
struct FleetSessionTests {
    static let logger = TestDatabase.logger

    func migrated() async throws -> FleetDatabase {
        let database = try TestDatabase.make()
        let session = try await TestDatabase.session(database)
        try await FleetSchema.migrate(session.connection, schema: database.schema, logger: Self.logger)
        await session.close()
        return database
    }

    @Test func migratingIsIdempotentEvenFromManyInstancesAtOnce() async throws {
        let database = try TestDatabase.make()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<4 {
                group.addTask {
                    let session = try await TestDatabase.session(database, name: "sentinel:m\(index)")
                    try await FleetSchema.migrate(session.connection, schema: database.schema, logger: Self.logger)
                    try await FleetSchema.migrate(session.connection, schema: database.schema, logger: Self.logger)
                    await session.close()
                }
            }
            try await group.waitForAll()
        }
        let session = try await TestDatabase.session(database)
        var versions: [Int] = []
        for try await version in try await session.connection.query("SELECT version FROM sentinel_schema", logger: Self.logger).decode(
            Int.self)
        {
            versions.append(version)
        }
        #expect(versions.sorted() == [1, 2])
        // A database migrated by a newer build is refused, with both versions named.
        try await session.connection.query("INSERT INTO sentinel_schema (version) VALUES (99)", logger: Self.logger)
        await #expect {
            try await FleetSchema.migrate(session.connection, schema: database.schema, logger: Self.logger)
        } throws: { error in
            "\((error as? PostgresTransactionError)?.closureError ?? error)".contains("version 99, this build knows versions up to 2")
        }
        await session.close()
        await TestDatabase.drop(database)
    }

    @Test func slicesGoThroughTheServerExactlyAndABadRowIsLeftOutWithItsName() async throws {
        let database = try await migrated()
        let session = try await TestDatabase.session(database)
        #expect(try await session.hasSlicesTable())
        // Two instances' slices, 40 calls each over a spread of latencies, and a busy shadow.
        func report(_ instance: String, _ slice: Int64, calls: UInt64) -> SliceReport {
            let buckets = (0..<40).map { OutcomeDelta.Bucket(index: UInt16(100 + 3 * $0), count: calls + UInt64($0)) }
            let total = buckets.reduce(0) { $0 + $1.count }
            let delta = OutcomeDelta(counts: [total - 7, 5, 2, 0, 0, 0, 0], buckets: buckets)!
            return SliceReport(
                instance: instance, slice: slice,
                entries: [
                    .init(pipeline: "checkout", side: .live, delta: delta), .init(pipeline: "checkout", side: .shadow, delta: delta),
                    .init(pipeline: "checkout", side: .variant("canary"), delta: delta),
                ])
        }
        let written = [
            report("a", 100, calls: 1), report("b", 100, calls: 2), report("a", 101, calls: 3), report("b", 101, calls: 1 << 20),
        ]
        for slice in written { #expect(try await session.writeSlice(slice) == .written) }
        // Written again (its answer was lost): known as written before, once.
        #expect(try await session.writeSlice(written[0]) == .writtenBefore)
        // Another report under the same instance and slice (two processes under one --instance): the first kept.
        #expect(try await session.writeSlice(report("a", 100, calls: 9)) == .conflict)
        // A row that is not a report, and one from centuries ahead.
        try await session.connection.query(
            "INSERT INTO sentinel_slices (instance, slice, report) VALUES ('c', 101, '\\x53535231ff'::bytea)", logger: Self.logger)
        #expect(try await session.writeSlice(report("d", 800_000_000, calls: 1)) == .written)

        // Slices from 101 on, and older ones only when written in the last minute (late, after a lost connection).
        try await session.connection.query(
            "UPDATE sentinel_slices SET written_at = now() - interval '2 minutes' WHERE slice = 100", logger: Self.logger)
        #expect(try await session.listSlices(from: 101, through: 102).map { "\($0.instance)@\($0.slice)" } == ["a@101", "b@101", "c@101"])
        #expect(try await session.writeSlice(report("e", 99, calls: 1)) == .written)
        #expect(
            try await session.listSlices(from: 101, through: 102).map { "\($0.instance)@\($0.slice)" } == [
                "e@99", "a@101", "b@101", "c@101",
            ])
        try await session.connection.query("DELETE FROM sentinel_slices WHERE instance = 'e'", logger: Self.logger)
        var read: [SliceReport] = [], problems: [String] = []
        for row in try await session.readSlices(try await session.listSlices(from: 0, through: 102)) {
            do { read.append(try SliceReport(decoding: row.bytes)) } catch { problems.append("\(row.instance)@\(row.slice): \(error)") }
        }
        #expect(read == written.sorted { ($0.slice, $0.instance) < ($1.slice, $1.instance) })
        #expect(problems == ["c@101: slice report, byte 4, slice: the bytes end inside a number"])
        let merged = FleetStatistics()
        for report in read { merged.merge(report) }
        let totals = written.reduce(OutcomeTotals.zero) { total, report in
            var total = total
            total.add(report.entries[0].delta)
            return total
        }
        let registry = ParameterRegistry()
        let pipeline = try Pipeline("checkout", registry: registry) { TrafficSplit([("stable", 100), ("canary", 0)]) }
        #expect(merged.statistics(of: pipeline)?.totals(.live) == totals)
        #expect(merged.statistics(of: pipeline)?.totals(.variant("canary")) == totals)
        // The leader's housekeeping.
        try await session.pruneSlices(before: 101)
        #expect(try await session.listSlices(from: 0, through: 102).count == 3)
        await session.close()
        await TestDatabase.drop(database)
    }

    @Test func racingCandidatesGetOneTermEachAndAnOldTermsWriteIsRefused() async throws {
        let database = try await migrated()
        let first = try await TestDatabase.session(database, name: "sentinel:a:leader")
        let second = try await TestDatabase.session(database, name: "sentinel:b:leader")
        let data = try await TestDatabase.session(database, name: "sentinel:a:data")
        async let firstTerm = first.tryLead(instance: "a", lease: .seconds(5))
        async let secondTerm = second.tryLead(instance: "b", lease: .seconds(5))
        let terms = try await [firstTerm, secondTerm]
        #expect(terms.compactMap { $0 } == [1], "exactly one candidate leads, with term 1: \(terms)")
        let (leader, leaderSession, follower, followerSession) =
            terms[0] != nil ? ("a", first, "b", second) : ("b", second, "a", first)

        let change = FleetChangeSet(changes: ["param/checkout.retry.max_attempts": ["value": 2]], audit: [])
        #expect(try await data.write(change, instance: leader, term: 1) == 1)
        // The other instance's write as a leader of term 1 is refused (it is not term 1's leader).
        await #expect(throws: (any Error).self) { try await data.write(change, instance: follower, term: 1) }

        // The leader's session ends: the other takes the lock with the next term...
        await leaderSession.close()
        let next = try await TestDatabase.eventually { try await followerSession.tryLead(instance: follower, lease: .seconds(5)) != nil }
        #expect(next)
        // ...and the deposed leader's late write is refused, whatever it carries.
        await #expect {
            try await data.write(change, instance: leader, term: 1)
        } throws: { error in
            guard case .fenced(let term, let current, let by)? = (error as? PostgresTransactionError)?.closureError as? FleetError else {
                return false
            }
            return term == 1 && current == 2 && by == follower
        }
        // Operators' writes (no term) go through whoever leads.
        #expect(try await data.write(change, instance: leader, term: nil) == 2)
        await followerSession.close()
        await data.close()
        await TestDatabase.drop(database)
    }

    @Test func aHungLeaderLosesItsSessionOnceItsLeaseRunsOut() async throws {
        let database = try await migrated()
        let hung = try await TestDatabase.session(database, name: "sentinel:hung:leader")
        let candidate = try await TestDatabase.session(database, name: "sentinel:next:leader")
        #expect(try await hung.tryLead(instance: "hung", lease: .seconds(3)) == 1)
        // While the lease runs, nobody may end the leader's session.
        #expect(try await candidate.tryLead(instance: "next", lease: .seconds(1)) == nil)
        #expect(try await candidate.endExpiredLeader() == false)
        // The leader never renews (it is hung); its lease runs out and its session is ended.
        let ended = try await TestDatabase.eventually(10) { try await candidate.endExpiredLeader() }
        #expect(ended)
        let led = try await TestDatabase.eventually(5) { try await candidate.tryLead(instance: "next", lease: .seconds(1)) != nil }
        #expect(led)
        // When the hung leader wakes up, its renewal fails: its session is gone.
        await #expect(throws: (any Error).self) {
            _ = try await hung.bounded { try await $0.renew(instance: "hung", term: 1, lease: .seconds(1)) }
        }
        await candidate.close()
        await TestDatabase.drop(database)
    }

    @Test func aReaderSeesEveryVersionAfterItsOwnInOrder() async throws {
        let database = try await migrated()
        let session = try await TestDatabase.session(database)
        let entry = AuditEntry(
            time: 1_800_000_000, actor: "operator:alice", action: "param.set", target: "checkout.retry.max_attempts",
            args: ["param": "checkout.retry.max_attempts", "value": 2], outcome: .applied, reason: "incident 7")
        _ = try await session.write(
            FleetChangeSet(changes: ["a": 1, "b": 1], audit: [entry]), instance: "x", term: nil)
        _ = try await session.write(FleetChangeSet(changes: ["a": 2, "freeze": .some(nil)], audit: []), instance: "y", term: nil)
        let all = try await session.read(after: 0)
        #expect(all.version == 2)
        #expect(all.rows.map(\.key) == ["b", "a", "freeze"])
        #expect(all.rows.first { $0.key == "a" }?.value == 2)
        #expect(all.rows.first { $0.key == "freeze" }.map { $0.value == nil } == true)
        #expect(all.changeSets.map(\.version) == [1, 2] && all.changeSets.map(\.instance) == ["x", "y"])
        #expect(all.changeSets[0].audit == [entry])
        let later = try await session.read(after: 1)
        #expect(later.rows.map(\.key).sorted() == ["a", "freeze"] && later.changeSets.map(\.version) == [2])
        await session.close()
        await TestDatabase.drop(database)
    }
}
