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

@Suite struct AuditTests {
    typealias Support = AuditFileTesting

    static func entry(_ index: Int, outcome: AuditOutcome = .applied, actor: String = "script:rule") -> AuditEntry {
        AuditEntry(
            time: 1_795_459_500 + Double(index), actor: actor, action: "param.set",
            target: "checkout.retry.max_attempts", args: ["param": "checkout.retry.max_attempts", "value": .int(Int64(index))],
            outcome: outcome, reason: "entry \(index)")
    }

    // MARK: - Line format

    @Test func lineHasSortedKeysAndLeavesUnsetFieldsOut() {
        let minimal = AuditEntry(time: 1_795_459_500.123, actor: "sentinel", action: "script.load", outcome: .applied)
        #expect(
            minimal.jsonLine()
                == #"{"action":"script.load","actor":"sentinel","args":{},"outcome":"applied","time":"2026-11-23T18:45:00.123Z"}"#)

        let full = AuditEntry(
            time: 1_795_459_500.123, actor: "script:shed-retries", action: "param.set",
            target: "checkout.retry.max_attempts", args: ["value": 1, "param": "checkout.retry.max_attempts"],
            outcome: .dryRun, reason: "error rate high", evidence: ["window": "1m", "error_rate": 0.42],
            correlationID: "tick-17", result: ["previous": 3])
        #expect(
            full.jsonLine()
                == #"{"action":"param.set","actor":"script:shed-retries","args":{"param":"checkout.retry.max_attempts","value":1},"correlation_id":"tick-17","evidence":{"error_rate":0.42,"window":"1m"},"outcome":"dry_run","reason":"error rate high","result":{"previous":3},"target":"checkout.retry.max_attempts","time":"2026-11-23T18:45:00.123Z"}"#)
    }

    @Test func nullEvidenceAndResultAreNotWritten() {
        let entry = AuditEntry(
            time: 0, actor: "sentinel", action: "x", outcome: .failed, reason: nil, evidence: .null, result: .null)
        #expect(!entry.jsonLine().contains("null"))
    }

    @Test func entryOfRejectedNaNIsWrittenAndReadBack() throws {
        let entry = AuditEntry(
            time: 1_795_459_500, actor: "script:bad", action: "param.set", target: "checkout.retry.max_attempts",
            args: ["param": "checkout.retry.max_attempts", "value": .double(.nan)], outcome: .rejected,
            reason: "value is NaN", evidence: ["limits": [.double(.infinity), .double(-.infinity)]])
        let line = entry.jsonLine()
        #expect(line.contains(#""value":"NaN""#))
        #expect(line.contains(#""limits":["Infinity","-Infinity"]"#))
        let back = try AuditEntry(jsonLine: line)
        #expect(back.outcome == .rejected)
        // Documented: JSON has no NaN, so it comes back as the string.
        #expect(back.args["value"] == "NaN")
        #expect(back.evidence?["limits"] == ["Infinity", "-Infinity"])
    }

    @Test func entryRoundTripsThroughItsLine() throws {
        let entry = AuditEntry(
            time: 1_795_459_500.123, actor: "operator:ana", action: "breaker.force_open", target: "checkout",
            args: ["pipeline": "checkout", "note": "quote \" and \\ and\nnewline é"], outcome: .applied,
            reason: "maintenance", evidence: ["ticket": 42], correlationID: "req-1", result: ["state": "open"])
        #expect(try AuditEntry(jsonLine: entry.jsonLine()) == entry)
    }

    @Test(arguments: [
        (#"{"action":"a","actor":"b","args":{},"outcome":"applied"}"#, "time", AuditDecodingError.Code.missingField),
        (#"{"action":"a","actor":"b","args":{},"outcome":"exploded","time":"2026-11-23T18:45:00.000Z"}"#, "outcome", .invalidValue),
        (#"{"action":"a","actor":7,"args":{},"outcome":"applied","time":"2026-11-23T18:45:00.000Z"}"#, "actor", .wrongType),
        (#"{"action":"a","actor":"b","args":{},"outcome":"applied","time":"yesterday"}"#, "time", .invalidValue),
        (#"{"action":"a","actor":"b","outcome":"applied","time":"2026-11-23T18:45:00.000Z"}"#, "args", .missingField),
        (#"{"action":"a","actor":"b","args":{},"outcome":"applied","target":1,"time":"2026-11-23T18:45:00.000Z"}"#, "target", .wrongType),
    ])
    func decodingErrorsNameTheField(line: String, field: String, code: AuditDecodingError.Code) {
        #expect {
            try AuditEntry(jsonLine: line)
        } throws: { error in
            guard let error = error as? AuditDecodingError else { return false }
            return error.code == code && error.field == field && error.message.contains(field)
        }
    }

    @Test func unknownFieldsAreIgnoredSoNewerLogsStayReadable() throws {
        let line = #"{"action":"a","actor":"b","args":{},"outcome":"denied","severity":"high","time":"2026-11-23T18:45:00.000Z"}"#
        #expect(try AuditEntry(jsonLine: line).outcome == .denied)
    }

    // MARK: - In-memory ring

    @Test func ringKeepsTheNewestEntriesUpToItsCapacity() {
        let log = AuditLog(capacity: 3)
        for index in 0..<5 { log.append(Self.entry(index, outcome: index % 2 == 0 ? .applied : .denied)) }
        #expect(log.recent(10).map(\.args["value"]) == [2, 3, 4])
        #expect(log.recent(2).map(\.args["value"]) == [3, 4])
        #expect(log.recent(0).isEmpty)
        #expect(log.last?.args["value"] == 4)
        let statistics = log.statistics
        #expect(statistics.appended == 5)
        #expect(statistics.retained == 3)
        // Counters cover every entry, including those that left the ring.
        #expect(log.count(of: .applied) == 3)
        #expect(log.count(of: .denied) == 2)
        #expect(statistics.byOutcome[.rejected] == 0)
    }

    @Test func ringStaysBoundedUnderManyAppends() {
        let log = AuditLog(capacity: 100)
        for index in 0..<10_000 { log.append(Self.entry(index)) }
        #expect(log.entries.count == 100)
        #expect(log.entries.first?.args["value"] == 9900)
        #expect(log.entries.last?.args["value"] == 9999)
    }

    @Test func queriesFilterByActorActionOutcomeTimeAndLimit() {
        let log = AuditLog()
        log.append(Self.entry(0, actor: "script:canary"))
        log.append(Self.entry(1, outcome: .denied, actor: "script:canary"))
        log.append(Self.entry(2, outcome: .rejected, actor: "operator:ana"))
        log.append(AuditEntry(time: 1_795_459_503, actor: "sentinel", action: "trial.rollback", target: "t1", outcome: .applied))
        log.append(AuditEntry(time: 1_795_459_504, actor: "sentinel", action: "trial.promote", target: "t2", outcome: .applied))

        #expect(log.entries(matching: AuditQuery(actor: "script:*")).count == 2)
        #expect(log.entries(matching: AuditQuery(outcomes: [.denied, .rejected])).map(\.actor) == ["script:canary", "operator:ana"])
        #expect(log.entries(matching: AuditQuery(action: "trial.*")).map(\.target) == ["t1", "t2"])
        #expect(log.entries(matching: AuditQuery(action: "trial.*", limit: 1)).map(\.target) == ["t2"])
        #expect(log.entries(matching: AuditQuery(since: 1_795_459_502, until: 1_795_459_504)).count == 2)
        #expect(log.entries(matching: AuditQuery(target: "checkout.*")).count == 3)
        #expect(log.entries(where: { $0.actor == "sentinel" }).count == 2)
    }

    @Test func sinksReceiveEntriesInOrderFromManyThreads() async {
        let sink = Support.RecordingSink()
        let log = AuditLog(capacity: 10_000, sinks: [sink])
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<4 {
                group.addTask {
                    for index in 0..<250 { log.append(Self.entry(worker * 1000 + index)) }
                }
            }
        }
        // Sink order equals ring order, whatever the interleaving.
        #expect(sink.entries == log.entries)
        #expect(sink.entries.count == 1000)
    }

    // MARK: - File sink

    @Test func fileSinkWritesOneLinePerEntry() throws {
        let directory = try Support.TemporaryDirectory()
        let path = directory.file("audit.jsonl")
        let sink = try AuditFileSink(.init(path: path), logger: .silent)
        let log = AuditLog(sinks: [sink], logger: Support.quiet)
        for index in 0..<10 { log.append(Self.entry(index)) }
        log.close()
        let text = try Support.contents(path)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 11)
        #expect(lines.last == "")
        #expect(lines.first.map(String.init) == Self.entry(0).jsonLine())
        let contents = try AuditFileReader(path: path).read()
        #expect(contents.entries == (0..<10).map { Self.entry($0) })
        #expect(contents.issues.isEmpty)
    }

    @Test func fileSinkAppendsToAnExistingFile() throws {
        let directory = try Support.TemporaryDirectory()
        let path = directory.file("audit.jsonl")
        for round in 0..<2 {
            let sink = try AuditFileSink(.init(path: path), logger: .silent)
            try sink.write(Self.entry(round))
            try sink.close()
        }
        #expect(try AuditFileReader(path: path).read().entries.count == 2)
    }

    @Test func openingInAMissingDirectoryFailsClearly() {
        #expect {
            try AuditFileSink(.init(path: "/nonexistent-sentinel-dir/audit.jsonl"), logger: .silent)
        } throws: { error in
            guard let error = error as? AuditFileError else { return false }
            return error.code == .openFailed && error.message.contains("/nonexistent-sentinel-dir/audit.jsonl")
                && error.message.contains("ENOENT")
        }
    }

    @Test func writingAfterCloseThrows() throws {
        let directory = try Support.TemporaryDirectory()
        let sink = try AuditFileSink(.init(path: directory.file("audit.jsonl")), logger: .silent)
        try sink.close()
        try sink.close()  // closing twice does nothing
        #expect {
            try sink.write(Self.entry(0))
        } throws: { error in
            (error as? AuditFileError)?.code == .closed
        }
    }

    @Test func rotationKeepsTheConfiguredNumberOfFiles() throws {
        let directory = try Support.TemporaryDirectory()
        let path = directory.file("audit.jsonl")
        let lineLength = Self.entry(10).jsonLine().utf8.count + 1
        let sink = try AuditFileSink(.init(path: path, maxFileSize: lineLength * 3, maxRotatedFiles: 2), logger: .silent)
        let log = AuditLog(sinks: [sink], logger: Support.quiet)
        for index in 10..<30 { log.append(Self.entry(index)) }
        log.close()

        #expect(Support.exists(path))
        #expect(Support.exists(path + ".1"))
        #expect(Support.exists(path + ".2"))
        #expect(!Support.exists(path + ".3"))
        for file in [path, path + ".1", path + ".2"] {
            #expect(try Support.contents(file).utf8.count <= lineLength * 3)
        }
        // The files together hold the newest entries, oldest first, without gaps.
        let all = try AuditFileReader(path: path).readWithRotated(maxRotatedFiles: 2)
        #expect(all.issues.isEmpty)
        #expect(all.entries.count == 8)  // 20 entries, 3 per file: .2 and .1 full, 2 in the live file
        #expect(all.entries == (22..<30).map { Self.entry($0) })
    }

    @Test func failedRotationKeepsWritingAndRetries() throws {
        let directory = try Support.TemporaryDirectory()
        let path = directory.file("audit.jsonl")
        let operations = Support.FaultyFileOperations()
        operations.faults.withLock { $0.renameError = EACCES }
        let lineLength = Self.entry(10).jsonLine().utf8.count + 1
        let sink = try Support.sink(path, operations, maxFileSize: lineLength * 2)
        let log = AuditLog(sinks: [sink], logger: Support.quiet)
        for index in 10..<15 { log.append(Self.entry(index)) }
        // Nothing lost: the file grew past its limit instead.
        #expect(log.sinkFailures == 0)
        #expect(try AuditFileReader(path: path).read().entries.count == 5)
        #expect(!Support.exists(path + ".1"))

        operations.faults.withLock { $0.renameError = nil }
        log.append(Self.entry(15))
        log.close()
        #expect(try AuditFileReader(path: path + ".1").read().entries.count == 5)
        #expect(try AuditFileReader(path: path).read().entries == [Self.entry(15)])
    }

    @Test func sinkEndsATornLineLeftByACrashBeforeWriting() throws {
        let directory = try Support.TemporaryDirectory()
        let path = directory.file("audit.jsonl")
        let torn = String(Self.entry(1).jsonLine().prefix(40))
        try Support.write(path, Self.entry(0).jsonLine() + "\n" + torn)
        let sink = try AuditFileSink(.init(path: path), logger: .silent)
        try sink.write(Self.entry(2))
        try sink.close()
        let contents = try AuditFileReader(path: path).read()
        #expect(contents.entries == [Self.entry(0), Self.entry(2)])
        #expect(contents.malformedLines.map(\.line) == [2])
        #expect(contents.warnings.isEmpty)
    }

    // MARK: - Reading files

    @Test func tornLastLineIsSkippedWithAWarning() throws {
        let good = (0..<2).map { Self.entry($0).jsonLine() + "\n" }.joined()
        let torn = String(Self.entry(2).jsonLine().prefix(57))
        let contents = AuditFileReader.decode(Array((good + torn).utf8), path: "audit.jsonl")
        #expect(contents.entries == [Self.entry(0), Self.entry(1)])
        #expect(contents.malformedLines.isEmpty)
        #expect(contents.warnings.count == 1)
        #expect(contents.warnings.first?.line == 3)
        #expect(contents.warnings.first?.description.hasPrefix("audit.jsonl:3: the last line is incomplete") == true)
    }

    @Test func wholeLastEntryWithoutItsLineBreakIsRead() {
        let text = Self.entry(0).jsonLine() + "\n" + Self.entry(1).jsonLine()
        let contents = AuditFileReader.decode(Array(text.utf8), path: "audit.jsonl")
        #expect(contents.entries == [Self.entry(0), Self.entry(1)])
        #expect(contents.issues.isEmpty)
    }

    @Test func malformedMiddleLinesAreReportedWithTheirNumbers() {
        let lines = [
            Self.entry(0).jsonLine(),
            #"{"action":"param.set","actor":"#,
            Self.entry(1).jsonLine(),
            "",
            #"{"action":"a","actor":"b","args":{},"outcome":"exploded","time":"2026-11-23T18:45:00.000Z"}"#,
            Self.entry(2).jsonLine(),
        ]
        let contents = AuditFileReader.decode(Array((lines.joined(separator: "\n") + "\n").utf8), path: "a.jsonl")
        #expect(contents.entries == [Self.entry(0), Self.entry(1), Self.entry(2)])
        #expect(contents.warnings.isEmpty)
        #expect(contents.malformedLines.map(\.line) == [2, 5])
        #expect(contents.malformedLines.first?.description.hasPrefix("a.jsonl:2: column 31: ") == true)
        #expect(contents.malformedLines.last?.message.contains("\"exploded\"") == true)
    }

    @Test func readingAMissingFileThrows() {
        #expect {
            try AuditFileReader(path: "/nonexistent-sentinel-dir/audit.jsonl").read()
        } throws: { error in
            (error as? AuditFileError)?.code == .readFailed
        }
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

// MARK: - Test support (StateFileTests uses it too)

/// Files and fakes for the audit and state file tests.
enum AuditFileTesting {
    /// A fresh directory under /tmp, removed with its files when released.
    final class TemporaryDirectory {
        let path: String

        init() throws {
            var template = Array("/tmp/sentinel-audit-XXXXXX".utf8CString)
            guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
                throw FileOperationError(operation: "mkdtemp", path: "/tmp", errno: errno)
            }
            path = String(cString: made)
        }

        func file(_ name: String) -> String { "\(path)/\(name)" }

        deinit {
            if let directory = opendir(path) {
                while let item = readdir(directory) {
                    let name = withUnsafeBytes(of: item.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                    if name != "." && name != ".." { unlink(file(name)) }
                }
                closedir(directory)
            }
            rmdir(path)
        }
    }

    /// Failures are expected in these tests; their logs would only be noise.
    static let quiet = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    static func sink(
        _ path: String, _ operations: FaultyFileOperations, maxFileSize: Int = 64 << 20,
        fsync: AuditFsyncPolicy = .never
    ) throws -> AuditFileSink {
        try AuditFileSink(
            .init(path: path, maxFileSize: maxFileSize, maxRotatedFiles: 3, fsync: fsync), operations: operations,
            elapsed: { .zero }, logger: quiet)
    }

    static func contents(_ path: String) throws -> String {
        guard let bytes = try POSIXFileOperations().readFile(path) else {
            throw FileOperationError(operation: "open", path: path, errno: ENOENT)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func write(_ path: String, _ text: String) throws {
        try write(path, Array(text.utf8))
    }

    static func write(_ path: String, _ bytes: [UInt8]) throws {
        let operations = POSIXFileOperations()
        let descriptor = try operations.open(path, flags: O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644)
        defer { try? operations.close(descriptor, path: path) }
        try bytes.withUnsafeBytes { buffer in
            Result { () throws(FileOperationError) in try operations.writeAll(descriptor, buffer, path: path) }
        }.get()
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// The real system calls, with failures switched on and off by the test.
    final class FaultyFileOperations: FileOperations {
        struct Faults {
            /// Bytes the disk still takes; nil for unlimited.
            var spaceLeft: Int?
            /// What a write fails with when the disk is "full".
            var writeError: Int32 = ENOSPC
            var renameError: Int32?
            var fsyncError: Int32?
            var fsyncCount = 0
            var renames: [String] = []
        }

        let faults = Mutex(Faults())
        private let base = POSIXFileOperations()

        func open(_ path: String, flags: Int32, mode: UInt32) throws(FileOperationError) -> Int32 {
            try base.open(path, flags: flags, mode: mode)
        }

        func write(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(FileOperationError) -> Int {
            let (allowed, error) = faults.withLock { faults -> (Int, Int32) in
                guard let space = faults.spaceLeft else { return (bytes.count, 0) }
                let allowed = min(space, bytes.count)
                faults.spaceLeft = space - allowed
                return (allowed, faults.writeError)
            }
            // Like a real disk filling up: a short write, then the error.
            guard allowed > 0 else { throw FileOperationError(operation: "write", path: path, errno: error) }
            return try base.write(descriptor, UnsafeRawBufferPointer(rebasing: bytes[0..<allowed]), path: path)
        }

        func read(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, path: String)
            throws(FileOperationError) -> Int
        {
            try base.read(descriptor, into: buffer, path: path)
        }

        func read(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64, path: String)
            throws(FileOperationError) -> Int
        {
            try base.read(descriptor, into: buffer, at: offset, path: path)
        }

        /// Overwriting in place takes no new space, so it works on a "full" disk
        /// (as the audit's preallocated loss note relies on).
        func write(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int64, path: String)
            throws(FileOperationError) -> Int
        {
            try base.write(descriptor, bytes, at: offset, path: path)
        }

        func fsync(_ descriptor: Int32, path: String) throws(FileOperationError) {
            let error = faults.withLock { faults -> Int32? in
                faults.fsyncCount += 1
                return faults.fsyncError
            }
            if let error { throw FileOperationError(operation: "fsync", path: path, errno: error) }
            try base.fsync(descriptor, path: path)
        }

        func truncate(_ descriptor: Int32, to size: Int64, path: String) throws(FileOperationError) {
            try base.truncate(descriptor, to: size, path: path)
        }

        func size(_ descriptor: Int32, path: String) throws(FileOperationError) -> Int64 {
            try base.size(descriptor, path: path)
        }

        func rename(_ source: String, to destination: String) throws(FileOperationError) {
            let error = faults.withLock { $0.renameError }
            if let error { throw FileOperationError(operation: "rename", path: "\(source) -> \(destination)", errno: error) }
            try base.rename(source, to: destination)
            faults.withLock { $0.renames.append("\(source) -> \(destination)") }
        }

        func unlink(_ path: String) throws(FileOperationError) {
            try base.unlink(path)
        }

        func close(_ descriptor: Int32, path: String) throws(FileOperationError) {
            try base.close(descriptor, path: path)
        }
    }

    /// A sink that keeps entries in memory and can be told to fail.
    final class RecordingSink: AuditSink, CustomStringConvertible {
        struct SinkError: Error, CustomStringConvertible {
            var description: String { "sink refused" }
        }

        private let state = Mutex((entries: [AuditEntry](), flushes: 0, closed: false))
        let failing = Mutex(false)

        var entries: [AuditEntry] { state.withLock { $0.entries } }
        var flushes: Int { state.withLock { $0.flushes } }
        var closed: Bool { state.withLock { $0.closed } }
        var description: String { "RecordingSink" }

        func write(_ entry: AuditEntry) throws {
            if failing.withLock({ $0 }) { throw SinkError() }
            state.withLock { $0.entries.append(entry) }
        }

        func flush() throws {
            if failing.withLock({ $0 }) { throw SinkError() }
            state.withLock { $0.flushes += 1 }
        }

        func close() throws {
            state.withLock { $0.closed = true }
        }
    }

    /// Collects what a logger logs.
    final class LogRecords: Sendable {
        private let records = Mutex<[(Logger.Level, String)]>([])

        func logger() -> Logger {
            Logger(label: "test") { _ in Handler(records: self) }
        }

        func messages(at level: Logger.Level) -> [String] {
            records.withLock { $0.filter { $0.0 == level }.map(\.1) }
        }

        fileprivate func record(_ level: Logger.Level, _ message: String) {
            records.withLock { $0.append((level, message)) }
        }

        struct Handler: LogHandler {
            let records: LogRecords
            var metadata: Logger.Metadata = [:]
            var logLevel: Logger.Level = .trace

            subscript(metadataKey key: String) -> Logger.Metadata.Value? {
                get { metadata[key] }
                set { metadata[key] = newValue }
            }

            func log(event: LogEvent) {
                records.record(event.level, event.message.description)
            }
        }
    }
}
