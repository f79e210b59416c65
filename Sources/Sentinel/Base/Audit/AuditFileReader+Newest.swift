#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension AuditFileReader {
    /// The newest entries that match `query` (at most `query.limit`), oldest
    /// first, from the live file and then the rotated ones (`path`, `path.1`,
    /// …, `path.N`), each read backwards from its end.
    ///
    /// Reading stops as soon as `query.limit` entries matched, so asking for
    /// the newest 100 reads about 100 lines however large the audit has grown
    /// (``readWithRotated(maxRotatedFiles:)`` reads and decodes every line of
    /// every file). A query whose filters match few entries, or one without a
    /// limit, still reads back through every file. The result is the one
    /// `readWithRotated(...).entries.filter(query.matches).suffix(limit)` gives.
    ///
    /// Lines that are not entries (a torn last line, a damaged line) are
    /// skipped without being reported; ``read()`` reports them. A file that is
    /// missing is skipped. A file seen twice (the sink rotated it while it was
    /// being read, so `path.1` is the file just read as `path`) is read once.
    ///
    /// ```swift
    /// let reader = AuditFileReader(path: "/var/log/sentinel/audit.jsonl")
    /// let freezes = try reader.newest(matching: AuditQuery(action: "automation.freeze", limit: 5), maxRotatedFiles: 5)
    /// ```
    ///
    /// - Throws: ``AuditFileError`` with code `readFailed` when a file exists
    ///   but cannot be read.
    public func newest(matching query: AuditQuery, maxRotatedFiles: Int) throws(AuditFileError) -> [AuditEntry] {
        try newest(matching: query, maxRotatedFiles: maxRotatedFiles, chunk: Self.backwardChunk)
    }

    /// ``newest(matching:maxRotatedFiles:)`` reading `chunk` bytes at a time (tests use tiny ones).
    func newest(matching query: AuditQuery, maxRotatedFiles: Int, chunk: Int) throws(AuditFileError) -> [AuditEntry] {
        let limit = query.limit ?? Int.max
        guard limit > 0 else { return [] }
        var found: [AuditEntry] = []
        var seen: Set<FileIdentity> = []
        let parser = JSONParser()
        let files = [path] + (0..<max(0, maxRotatedFiles)).map { "\(path).\($0 + 1)" }
        for file in files {
            let finished = try Self.visitLinesBackward(in: file, operations: operations, seen: &seen, chunk: chunk) { line in
                guard case .success(let value) = parser.parseResult(line),
                    let entry = try? AuditEntry(jsonObject: value), query.matches(entry)
                else { return true }
                found.append(entry)
                return found.count < limit
            }
            if !finished { break }
        }
        return found.reversed()
    }

    /// A file's device and inode: the same file under two names.
    struct FileIdentity: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    /// The bytes read from a file at a time, from its end.
    static let backwardChunk = 64 * 1024

    /// Calls `visit` with every non-blank line of `file`, the last line first,
    /// until it returns false. Returns false when `visit` stopped, true when
    /// the file was read to its start, is missing, or was seen already.
    static func visitLinesBackward(
        in file: String, operations: any FileOperations, seen: inout Set<FileIdentity>, chunk: Int = backwardChunk,
        _ visit: (UnsafeBufferPointer<UInt8>) -> Bool
    ) throws(AuditFileError) -> Bool {
        let descriptor: Int32
        do throws(FileOperationError) {
            descriptor = try operations.open(file, flags: O_RDONLY | O_CLOEXEC, mode: 0)
        } catch {
            if error.errno == ENOENT { return true }
            throw AuditFileError(.readFailed, path: file, error)
        }
        defer { try? operations.close(descriptor, path: file) }
        if let identity = identity(of: descriptor) {
            guard seen.insert(identity).inserted else { return true }
        }
        do throws(FileOperationError) {
            // The size when opened: what the sink appends meanwhile is newer than this answer.
            var position = try operations.size(descriptor, path: file)
            // The start of the line that ends where the previous (later) block began.
            var carry: [UInt8] = []
            while position > 0 {
                let count = Int(min(Int64(chunk), position))
                position -= Int64(count)
                var block = [UInt8](repeating: 0, count: count)
                var filled = 0
                while filled < count {
                    let result = block.withUnsafeMutableBytes { buffer in
                        Result { () throws(FileOperationError) -> Int in
                            try operations.read(
                                descriptor, into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]),
                                at: position + Int64(filled), path: file)
                        }
                    }
                    let read = try result.get()
                    // The file shrank under us (truncated): nothing sensible to read below.
                    if read == 0 { return true }
                    filled += read
                }
                block.append(contentsOf: carry)
                var stopped = false
                let lineEnd = block.withUnsafeBufferPointer { buffer -> Int in
                    var end = buffer.count
                    var index = buffer.count
                    while index > 0 {
                        index -= 1
                        guard buffer[index] == UInt8(ascii: "\n") else { continue }
                        if !visitLine(UnsafeBufferPointer(rebasing: buffer[(index + 1)..<end]), visit) {
                            stopped = true
                            return end
                        }
                        end = index
                    }
                    return end
                }
                if stopped { return false }
                carry = Array(block[..<lineEnd])
            }
            return carry.withUnsafeBufferPointer { visitLine($0, visit) }
        } catch {
            throw AuditFileError(.readFailed, path: file, error)
        }
    }

    /// Visits `line` unless it is blank; returns what `visit` returned (true for a blank line).
    private static func visitLine(_ line: UnsafeBufferPointer<UInt8>, _ visit: (UnsafeBufferPointer<UInt8>) -> Bool) -> Bool {
        if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\r") }) {
            return true
        }
        return visit(line)
    }

    /// The device and inode of an open descriptor; nil when `fstat` fails (a
    /// test's stand-in descriptor): such files are never taken for each other.
    private static func identity(of descriptor: Int32) -> FileIdentity? {
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { return nil }
        return FileIdentity(device: UInt64(status.st_dev), inode: UInt64(status.st_ino))
    }
}
