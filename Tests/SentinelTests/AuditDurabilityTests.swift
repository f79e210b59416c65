import Logging
import Resilience
import Synchronization
import Testing

@testable import Sentinel

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The audit under a failing disk and its fsync policies.
@Suite struct AuditDurabilityTests {
    typealias Support = AuditFileTesting

    static func entry(_ index: Int, outcome: AuditOutcome = .applied, actor: String = "script:rule") -> AuditEntry {
        AuditTests.entry(index, outcome: outcome, actor: actor)
    }

    // MARK: - Full disk

    @Test(arguments: [ENOSPC, EDQUOT, EIO])
    func fullDiskThenRecoveryLosesNothingAndKeepsOrder(errno code: Int32) throws {
        let directory = try Support.TemporaryDirectory()
        let path = directory.file("audit.jsonl")
        let operations = Support.FaultyFileOperations()
        let sink = try Support.sink(path, operations)
        let log = AuditLog(sinks: [sink], logger: Support.quiet)
        for index in 0..<3 { log.append(Self.entry(index)) }

        // Room for half a line: the partial line must be cut off again.
        operations.faults.withLock {
            $0.spaceLeft = 40
            $0.writeError = code
        }
        let sizeBefore = try Support.contents(path).utf8.count
        for index in 3..<8 { log.append(Self.entry(index)) }
        #expect(try Support.contents(path).utf8.count == sizeBefore)
        #expect(log.statistics.pendingEntries == 5)
        #expect(log.sinkFailures == 5)
        #expect(log.droppedEntries == 0)
        #expect(log.lastError?.operation == "write")
        #expect(log.lastError?.message.contains(FileOperationError.describe(code)) == true)
        #expect(log.lastError?.message.contains(path) == true)
        // The ring never depended on the disk.
        #expect(log.entries.count == 8)

        operations.faults.withLock { $0.spaceLeft = nil }
        log.append(Self.entry(8))
        #expect(log.statistics.pendingEntries == 0)
        log.close()
        let contents = try AuditFileReader(path: path).read()
        #expect(contents.issues.isEmpty)
        #expect(contents.entries == (0..<9).map { Self.entry($0) })
    }

    @Test func flushRetriesPendingEntriesWithoutANewAppend() throws {
        let directory = try Support.TemporaryDirectory()
        let path = directory.file("audit.jsonl")
        let operations = Support.FaultyFileOperations()
        let log = AuditLog(sinks: [try Support.sink(path, operations)], logger: Support.quiet)
        operations.faults.withLock { $0.spaceLeft = 0 }
        log.append(Self.entry(0))
        log.append(Self.entry(1))
        log.flush()
        #expect(log.statistics.pendingEntries == 2)
        operations.faults.withLock { $0.spaceLeft = nil }
        log.flush()
        #expect(log.statistics.pendingEntries == 0)
        #expect(try AuditFileReader(path: path).read().entries == [Self.entry(0), Self.entry(1)])
    }

    @Test func pendingQueueOverflowIsCountedLoggedAndMarkedInTheFile() throws {
        let directory = try Support.TemporaryDirectory()
        let path = directory.file("audit.jsonl")
        let operations = Support.FaultyFileOperations()
        let records = Support.LogRecords()
        let log = AuditLog(
            sinks: [try Support.sink(path, operations)], pendingCapacity: 3, logger: records.logger())
        operations.faults.withLock { $0.spaceLeft = 0 }
        for index in 0..<10 { log.append(Self.entry(index)) }

        let statistics = log.statistics
        #expect(statistics.pendingEntries == 3)
        #expect(statistics.droppedEntries == 7)
        #expect(statistics.sinkFailures > 0)
        #expect(statistics.lastError != nil)
        // One error for the failure, one for the drops: not one per entry.
        #expect(records.messages(at: .error).count == 2)
        #expect(records.messages(at: .error).contains { $0.contains("dropped") })

        operations.faults.withLock { $0.spaceLeft = nil }
        log.append(Self.entry(10))
        log.close()
        let entries = try AuditFileReader(path: path).read().entries
        #expect(entries.count == 5)
        #expect(Array(entries[0..<3]) == (0..<3).map { Self.entry($0) })
        let marker = entries[3]
        #expect(marker.action == "audit.dropped")
        #expect(marker.actor == "sentinel")
        #expect(marker.outcome == .failed)
        #expect(marker.args["count"] == 7)
        #expect(marker.args["first_time"] == .string(RFC3339.string(fromUnixSeconds: Self.entry(3).time)))
        #expect(marker.args["last_time"] == .string(RFC3339.string(fromUnixSeconds: Self.entry(9).time)))
        #expect(entries[4] == Self.entry(10))
        #expect(records.messages(at: .notice).contains { $0.contains("recovered") })
    }

    @Test func entriesAppendedAfterCloseAreCountedAsDropped() throws {
        let sink = Support.RecordingSink()
        let log = AuditLog(sinks: [sink], logger: Support.quiet)
        log.append(Self.entry(0))
        log.close()
        log.append(Self.entry(1))
        #expect(sink.entries == [Self.entry(0)])
        #expect(sink.closed)
        #expect(log.droppedEntries == 1)
        #expect(log.entries.count == 2)
    }

    @Test func aThrowingCustomSinkNeverReachesTheCaller() {
        let sink = Support.RecordingSink()
        sink.failing.withLock { $0 = true }
        let log = AuditLog(sinks: [sink], pendingCapacity: 1, logger: Support.quiet)
        log.append(Self.entry(0))
        log.append(Self.entry(1))
        log.flush()
        #expect(log.droppedEntries == 1)
        #expect(log.lastError?.message == "sink refused")
        sink.failing.withLock { $0 = false }
        log.flush()
        #expect(sink.entries.map(\.action) == ["param.set", "audit.dropped"])
        #expect(sink.flushes == 1)
    }

    // MARK: - fsync policy

    @Test(arguments: [
        (AuditFsyncPolicy.never, 0), (.always, 7), (.everyEntries(3), 2), (.everyEntries(0), 7),
    ])
    func fsyncPolicyDecidesHowOftenWritesSync(policy: AuditFsyncPolicy, expected: Int) throws {
        let directory = try Support.TemporaryDirectory()
        let operations = Support.FaultyFileOperations()
        let sink = try Support.sink(directory.file("audit.jsonl"), operations, fsync: policy)
        for index in 0..<7 { try sink.write(Self.entry(index)) }
        #expect(operations.faults.withLock { $0.fsyncCount } == expected)
        try sink.flush()
        #expect(operations.faults.withLock { $0.fsyncCount } == expected + 1)
    }

    @Test func intervalPolicySyncsOnTheFirstWriteAfterTheInterval() throws {
        let directory = try Support.TemporaryDirectory()
        let operations = Support.FaultyFileOperations()
        let clock = ManualClock()
        let sink = try AuditFileSink(
            .init(path: directory.file("audit.jsonl"), fsync: .interval(.seconds(1))), operations: operations,
            elapsed: { clock.now.offset }, logger: Support.quiet)
        try sink.write(Self.entry(0))
        clock.advance(by: .milliseconds(999))
        try sink.write(Self.entry(1))
        #expect(operations.faults.withLock { $0.fsyncCount } == 0)
        clock.advance(by: .milliseconds(1))
        try sink.write(Self.entry(2))
        #expect(operations.faults.withLock { $0.fsyncCount } == 1)
        try sink.write(Self.entry(3))
        #expect(operations.faults.withLock { $0.fsyncCount } == 1)
        try sink.close()
        #expect(operations.faults.withLock { $0.fsyncCount } == 2)
    }

    @Test func failedFsyncIsReportedByFlushWithoutWritingTheEntryTwice() throws {
        let directory = try Support.TemporaryDirectory()
        let path = directory.file("audit.jsonl")
        let operations = Support.FaultyFileOperations()
        let log = AuditLog(sinks: [try Support.sink(path, operations, fsync: .always)], logger: Support.quiet)
        operations.faults.withLock { $0.fsyncError = EIO }
        log.append(Self.entry(0))
        #expect(log.sinkFailures == 0)
        log.flush()
        #expect(log.sinkFailures == 1)
        #expect(log.lastError?.operation == "flush")
        #expect(log.lastError?.message.contains("fsync") == true)
        operations.faults.withLock { $0.fsyncError = nil }
        log.close()
        #expect(try AuditFileReader(path: path).read().entries == [Self.entry(0)])
    }

    @Test func rotationSyncsTheOldFileFirst() throws {
        let directory = try Support.TemporaryDirectory()
        let path = directory.file("audit.jsonl")
        let operations = Support.FaultyFileOperations()
        let lineLength = Self.entry(10).jsonLine().utf8.count + 1
        let sink = try Support.sink(path, operations, maxFileSize: lineLength, fsync: .never)
        try sink.write(Self.entry(10))
        try sink.write(Self.entry(11))
        // One fsync of the file before the rename, one of the directory after it.
        #expect(operations.faults.withLock { $0.fsyncCount } == 2)
        #expect(operations.faults.withLock { $0.renames } == ["\(path) -> \(path).1"])
    }
}
