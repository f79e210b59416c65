import Resilience
import Synchronization
import Testing

@testable import Sentinel

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `AuditFileReader.newest(matching:maxRotatedFiles:)`: what `GET /v1/audit`
/// reads, from the end of the audit back, only as far as the limit needs.
@Suite struct AuditNewestTests {
    typealias Support = AuditFileTesting

    static func entry(_ index: Int) -> AuditEntry {
        let actors = ["script:canary", "operator:alice", "sentinel"]
        let outcomes: [AuditOutcome] = [.applied, .applied, .denied, .rejected, .dryRun]
        return AuditEntry(
            time: 1_795_459_500 + Double(index), actor: actors[index % 3], action: index % 4 == 0 ? "automation.freeze" : "param.set",
            target: "checkout.retry.max_attempts", args: ["value": .int(Int64(index))], outcome: outcomes[index % 5],
            reason: "entry \(index)")
    }

    /// Three rotated files and the live one, with what a real audit may hold
    /// besides entries: blank lines, a damaged line, a torn last line.
    static func makeAudit(in directory: AuditFileTesting.TemporaryDirectory) throws -> String {
        let path = directory.file("audit.jsonl")
        let lines = { (range: Range<Int>) in range.map { entry($0).jsonLine() + "\n" }.joined() }
        try Support.write(path + ".3", lines(0..<10))
        try Support.write(path + ".2", lines(10..<15) + "\n  \n" + #"{"action":"param.set","actor":"# + "\n" + lines(15..<20))
        try Support.write(path + ".1", lines(20..<40))
        try Support.write(path, lines(40..<47) + String(entry(47).jsonLine().prefix(50)))
        return path
    }

    static let queries: [AuditQuery] = [
        AuditQuery(limit: 1), AuditQuery(limit: 5), AuditQuery(limit: 7), AuditQuery(limit: 8), AuditQuery(limit: 33),
        AuditQuery(limit: 1000), AuditQuery(), AuditQuery(actor: "operator:*", limit: 4),
        AuditQuery(action: "automation.freeze", limit: 100), AuditQuery(outcomes: [.denied, .rejected], limit: 9),
        AuditQuery(since: 1_795_459_500 + 12, until: 1_795_459_500 + 41, limit: 6),
        AuditQuery(since: 1_795_459_500 + 45, limit: 100), AuditQuery(actor: "nobody", limit: 10),
    ]

    @Test(arguments: [1, 7, 64, 333, 65536])
    func newestIsTheTailOfTheFullReadForEveryQuery(chunk: Int) throws {
        let directory = try Support.TemporaryDirectory()
        let path = try Self.makeAudit(in: directory)
        let reader = AuditFileReader(path: path)
        let all = try reader.readWithRotated(maxRotatedFiles: 3).entries
        #expect(all == (0..<47).map { Self.entry($0) })
        for query in Self.queries {
            let expected = Array(all.filter(query.matches).suffix(query.limit ?? .max))
            #expect(try reader.newest(matching: query, maxRotatedFiles: 3, chunk: chunk) == expected, "\(query)")
        }
    }

    @Test func onlyTheConfiguredRotatedFilesAreRead() throws {
        let directory = try Support.TemporaryDirectory()
        let path = try Self.makeAudit(in: directory)
        let newest = try AuditFileReader(path: path).newest(matching: AuditQuery(), maxRotatedFiles: 1)
        #expect(newest == (20..<47).map { Self.entry($0) })
    }

    @Test func aWholeLastEntryWithoutItsLineBreakIsRead() throws {
        let directory = try Support.TemporaryDirectory()
        let path = directory.file("audit.jsonl")
        try Support.write(path, Self.entry(0).jsonLine() + "\n" + Self.entry(1).jsonLine())
        let newest = try AuditFileReader(path: path).newest(matching: AuditQuery(limit: 1), maxRotatedFiles: 0, chunk: 16)
        #expect(newest == [Self.entry(1)])
    }

    @Test func readingStopsAtTheLimit() throws {
        let directory = try Support.TemporaryDirectory()
        let path = directory.file("audit.jsonl")
        let text = (0..<5000).map { Self.entry($0).jsonLine() + "\n" }.joined()
        try Support.write(path, text)
        try Support.write(path + ".1", text)
        let operations = CountingFileOperations()
        let reader = AuditFileReader(path: path, operations: operations)
        let newest = try reader.newest(matching: AuditQuery(limit: 100), maxRotatedFiles: 5, chunk: 4096)
        #expect(newest == (4900..<5000).map { Self.entry($0) })
        let lineLength = Self.entry(4999).jsonLine().utf8.count + 1
        // 100 lines and at most one more block: not the 2 × 5,000 lines there are.
        #expect(operations.bytesRead.load(ordering: .relaxed) <= 100 * lineLength + 4096)
        #expect(operations.opened.withLock { $0 } == [path])
    }

    @Test func aFileSeenTwiceUnderTwoNamesIsReadOnce() throws {
        // What a rotation during a read looks like: the file just read as `path` is now `path.1`.
        let directory = try Support.TemporaryDirectory()
        let path = directory.file("audit.jsonl")
        try Support.write(path, (0..<3).map { Self.entry($0).jsonLine() + "\n" }.joined())
        #expect(link(path, path + ".1") == 0)
        let newest = try AuditFileReader(path: path).newest(matching: AuditQuery(), maxRotatedFiles: 2)
        #expect(newest == (0..<3).map { Self.entry($0) })
    }

    @Test func missingFilesAreSkipped() throws {
        let directory = try Support.TemporaryDirectory()
        let path = directory.file("audit.jsonl")
        #expect(try AuditFileReader(path: path).newest(matching: AuditQuery(limit: 10), maxRotatedFiles: 3).isEmpty)
        try Support.write(path + ".2", Self.entry(7).jsonLine() + "\n")
        #expect(try AuditFileReader(path: path).newest(matching: AuditQuery(limit: 10), maxRotatedFiles: 3) == [Self.entry(7)])
    }

    @Test func aFileThatCannotBeReadThrows() throws {
        // Not a missing file (skipped) but one that cannot be opened: its folder is a file.
        let directory = try Support.TemporaryDirectory()
        try Support.write(directory.file("folder"), "")
        let path = directory.file("folder") + "/audit.jsonl"
        #expect {
            try AuditFileReader(path: path).newest(matching: AuditQuery(limit: 10), maxRotatedFiles: 0)
        } throws: { error in
            (error as? AuditFileError)?.code == .readFailed && (error as? AuditFileError)?.path == path
        }
    }
}

/// The real system calls, counting the files opened and the bytes read.
final class CountingFileOperations: FileOperations {
    let real = POSIXFileOperations()
    let bytesRead = Atomic<Int>(0)
    let opened = Locked<[String]>([])

    func open(_ path: String, flags: Int32, mode: UInt32) throws(FileOperationError) -> Int32 {
        let descriptor = try real.open(path, flags: flags, mode: mode)
        opened.withLock { $0.append(path) }
        return descriptor
    }

    func write(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(FileOperationError) -> Int {
        try real.write(descriptor, bytes, path: path)
    }

    func read(
        _ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, path: String
    ) throws(FileOperationError) -> Int {
        let count = try real.read(descriptor, into: buffer, path: path)
        bytesRead.add(count, ordering: .relaxed)
        return count
    }

    func read(
        _ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64, path: String
    ) throws(FileOperationError) -> Int {
        let count = try real.read(descriptor, into: buffer, at: offset, path: path)
        bytesRead.add(count, ordering: .relaxed)
        return count
    }

    func write(
        _ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int64, path: String
    ) throws(FileOperationError) -> Int {
        try real.write(descriptor, bytes, at: offset, path: path)
    }

    func fsync(_ descriptor: Int32, path: String) throws(FileOperationError) { try real.fsync(descriptor, path: path) }
    func truncate(_ descriptor: Int32, to size: Int64, path: String) throws(FileOperationError) {
        try real.truncate(descriptor, to: size, path: path)
    }
    func size(_ descriptor: Int32, path: String) throws(FileOperationError) -> Int64 { try real.size(descriptor, path: path) }
    func rename(_ source: String, to destination: String) throws(FileOperationError) { try real.rename(source, to: destination) }
    func unlink(_ path: String) throws(FileOperationError) { try real.unlink(path) }
    func close(_ descriptor: Int32, path: String) throws(FileOperationError) { try real.close(descriptor, path: path) }
}
