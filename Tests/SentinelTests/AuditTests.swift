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
                == #"{"action":"param.set","actor":"script:shed-retries","args":{"param":"checkout.retry.max_attempts","value":1},"correlation_id":"tick-17","evidence":{"error_rate":0.42,"window":"1m"},"outcome":"dry_run","reason":"error rate high","result":{"previous":3},"target":"checkout.retry.max_attempts","time":"2026-11-23T18:45:00.123Z"}"#
        )
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
}
