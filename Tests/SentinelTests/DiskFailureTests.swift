import Logging
import Resilience
import Testing

@testable import Sentinel

#if canImport(Glibc)
import Glibc
#endif

/// A failing disk: what is lost is said, once, and never silently.
@Suite struct DiskFailureTests {
    typealias Support = AuditFileTesting

    static func entry(_ index: Int) -> AuditEntry {
        AuditEntry(
            time: 1_800_000_000 + Double(index), actor: "script:rule", action: "param.set",
            target: "checkout.retry.max_attempts", outcome: .applied, reason: "entry \(index)")
    }

    @Test func entriesLostAtShutdownAreNotedAndWrittenByTheNextStart() throws {
        let directory = try Support.TemporaryDirectory()
        let path = directory.file("audit.jsonl")
        let operations = Support.FaultyFileOperations()
        let log = AuditLog(sinks: [try Support.sink(path, operations)], pendingCapacity: 2, logger: Support.quiet)
        log.append(Self.entry(0))
        operations.faults.withLock { $0.spaceLeft = 0 }  // the disk is full from here to the shutdown
        for index in 1...5 { log.append(Self.entry(index)) }
        log.close()
        let lost = try #require(log.lostAtClose.first)
        #expect(log.lostAtClose.count == 1)
        #expect(lost.count == 5 && lost.noted && lost.first == Self.entry(1).time && lost.last == Self.entry(5).time)
        #expect(lost.description.hasPrefix("5 audit entries (") && lost.description.contains("noted for the next start"))
        #expect(try Support.contents(path + ".lost").utf8.count == AuditLossNote.size)

        // The next start, with room on the disk again.
        let next = AuditLog(sinks: [try Support.sink(path, Support.FaultyFileOperations())], logger: Support.quiet)
        next.append(Self.entry(6))
        next.close()
        let entries = try AuditFileReader(path: path).read().entries
        #expect(entries.count == 3)
        #expect(entries[0] == Self.entry(0))
        let dropped = entries[1]
        #expect(dropped.action == "audit.dropped" && dropped.actor == "sentinel" && dropped.outcome == .failed)
        #expect(dropped.args["count"] == 5)
        #expect(dropped.args["first_time"] == .string(RFC3339.string(fromUnixSeconds: Self.entry(1).time)))
        #expect(dropped.args["last_time"] == .string(RFC3339.string(fromUnixSeconds: Self.entry(5).time)))
        #expect(dropped.reason?.contains("the process stopped before they could be written") == true)
        #expect(entries[2] == Self.entry(6))
        // The note is emptied: a third start writes nothing twice.
        let third = AuditLog(sinks: [try Support.sink(path, Support.FaultyFileOperations())], logger: Support.quiet)
        third.close()
        #expect(try AuditFileReader(path: path).read().entries.count == 3)
        #expect(third.lostAtClose.isEmpty)
    }

    @Test func aCleanShutdownLosesNothing() throws {
        let directory = try Support.TemporaryDirectory()
        let log = AuditLog(
            sinks: [try Support.sink(directory.file("audit.jsonl"), Support.FaultyFileOperations())],
            logger: Support.quiet)
        log.append(Self.entry(0))
        log.close()
        #expect(log.lostAtClose.isEmpty)
    }

    @Test func aFailingStateSaveIsLoggedOncePerEpisodeWithTheCount() throws {
        let directory = try Support.TemporaryDirectory()
        let folder = directory.file("state")
        let records = Support.LogRecords()
        let fixture = try Fixture()
        let sentinel = Sentinel(
            plane: fixture.plane, configuration: .init(folders: [], stateFile: folder + "/state.json"),
            logger: records.logger())
        for _ in 0..<10 { sentinel.saveState() }  // the folder does not exist: every save fails
        #expect(records.messages(at: .error).count == 1)
        #expect(sentinel.stateSaveHealth.failing && sentinel.stateSaveHealth.failures == 10)
        #expect(mkdir(folder, 0o755) == 0)
        defer { _ = unlink(folder + "/state.json"); _ = rmdir(folder) }
        sentinel.saveState()
        #expect(!sentinel.stateSaveHealth.failing && sentinel.stateSaveHealth.totalFailures == 10)
        #expect(records.messages(at: .notice).contains { $0.contains("after 10 failed attempts") })
        for _ in 0..<3 { sentinel.saveState() }
        #expect(records.messages(at: .error).count == 1)
    }
}
