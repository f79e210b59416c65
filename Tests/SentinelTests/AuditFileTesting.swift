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

        func read(
            _ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, path: String
        )
            throws(FileOperationError) -> Int
        {
            try base.read(descriptor, into: buffer, path: path)
        }

        func read(
            _ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64, path: String
        )
            throws(FileOperationError) -> Int
        {
            try base.read(descriptor, into: buffer, at: offset, path: path)
        }

        /// Overwriting in place takes no new space, so it works on a "full" disk
        /// (as the audit's preallocated loss note relies on).
        func write(
            _ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int64, path: String
        )
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
