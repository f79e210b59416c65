import Logging
import Resilience

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes audit entries as JSON Lines to an append-only file, with size-based
/// rotation and a chosen `fsync` policy.
///
/// ```swift
/// let sink = try AuditFileSink(.init(path: "/var/log/sentinel/audit.jsonl", maxFileSize: 64 << 20, maxRotatedFiles: 5))
/// let audit = AuditLog(sinks: [sink])
/// ```
///
/// **Crash safety.** The file is opened with `O_APPEND | O_CREAT` and each line
/// (entry plus `\n`) goes out in one `write(2)`, so a crash leaves at most a
/// torn last line, which ``AuditFileReader`` skips with a warning. On opening a
/// file whose last line is torn, the sink first ends that line, so the torn
/// bytes stay one malformed line instead of spoiling the next entry. If a
/// write stops part-way (the disk filled up mid-line), the sink cuts the
/// partial line off again with `ftruncate(2)` before reporting the failure.
///
/// **Rotation.** When the next line would take the file past
/// ``Configuration/maxFileSize``, the sink syncs the file, renames
/// `audit.jsonl.N-1` → `audit.jsonl.N` … `audit.jsonl` → `audit.jsonl.1`
/// (the oldest falls off), syncs the directory and starts a new
/// `audit.jsonl`. If a rename fails the sink keeps writing to the current file
/// past the limit (logged once) rather than lose entries, and tries again at
/// the next line.
///
/// **Durability.** See ``AuditFsyncPolicy``; the default syncs at most once a
/// second. ``flush()``, rotation and ``close()`` always sync.
///
/// **Failures.** ``write(_:)`` throws ``AuditFileError`` when the line did not
/// reach the file; ``AuditLog`` then keeps the entry and retries it. A failed
/// `fsync` after a successful write is logged at once and thrown by the next
/// ``flush()`` (throwing from `write` would make the log write the line twice).
///
/// One writer per file: two sinks (or processes) on the same path would
/// interleave lines and confuse the size count.
public final class AuditFileSink: AuditSink, CustomStringConvertible {
    /// Where and how to write.
    public struct Configuration: Sendable, Hashable {
        /// The live file; rotated files get `.1`, `.2`, … appended.
        public var path: String
        /// Rotate before a line would make the file larger than this (bytes).
        public var maxFileSize: Int
        /// How many rotated files to keep (`.1` is the newest); at least 1.
        public var maxRotatedFiles: Int
        /// When to `fsync`.
        public var fsync: AuditFsyncPolicy
        /// Permissions of new files (before the umask).
        public var fileMode: UInt32

        /// Makes a configuration: 64 MiB files, 5 rotated files kept (so at
        /// most about 384 MiB on disk), `fsync` at most once a second, mode 0640.
        public init(
            path: String, maxFileSize: Int = 64 << 20, maxRotatedFiles: Int = 5,
            fsync: AuditFsyncPolicy = .default, fileMode: UInt32 = 0o640
        ) {
            self.path = path
            self.maxFileSize = maxFileSize
            self.maxRotatedFiles = maxRotatedFiles
            self.fsync = fsync
            self.fileMode = fileMode
        }
    }

    /// The configuration in use.
    public let configuration: Configuration
    private let operations: any FileOperations
    /// Time since the sink was made, on its clock (for ``AuditFsyncPolicy/interval(_:)``).
    private let elapsed: @Sendable () -> Duration
    private let logger: Logger
    private let state: Locked<State>
    /// `PATH.lost`: entries a stopping process could not write, for the next start.
    private let lossNote: AuditLossNote

    private struct State {
        /// Nil once closed.
        var descriptor: Int32?
        /// Bytes in the file behind `descriptor`, counted by this sink.
        var size: Int64
        var unsyncedEntries = 0
        var lastSync: Duration
        /// The file ends inside a line (a crash, or a partial write that could
        /// not be cut off): end it before the next entry.
        var needsLineBreak = false
        /// Rotation renamed the file but could not create a new one: `descriptor`
        /// still points at the renamed file.
        var reopenPending = false
        var rotationFailing = false
        /// An `fsync` that failed after its lines were written, for the next flush.
        var deferredSyncError: AuditFileError?
        /// Reused so encoding does not allocate per entry.
        var writer = JSONWriter(capacity: 1024)
    }

    /// Opens (or creates) the file at `configuration.path` for appending.
    ///
    /// - Throws: ``AuditFileError`` with code `openFailed` when the file cannot
    ///   be opened (missing directory, no permission).
    public convenience init(
        _ configuration: Configuration, logger: Logger
    ) throws(AuditFileError) {
        try self.init(configuration, clock: ContinuousClock(), logger: logger)
    }

    /// Opens (or creates) the file, timing ``AuditFsyncPolicy/interval(_:)`` with `clock`.
    public convenience init<C: Clock>(
        _ configuration: Configuration, clock: C, logger: Logger
    ) throws(AuditFileError) where C.Duration == Duration {
        let origin = clock.now
        try self.init(
            configuration, operations: POSIXFileOperations(), elapsed: { origin.duration(to: clock.now) },
            logger: logger)
    }

    /// The test seam: any file operations, any time source.
    init(
        _ configuration: Configuration, operations: any FileOperations,
        elapsed: @escaping @Sendable () -> Duration, logger: Logger
    ) throws(AuditFileError) {
        self.configuration = configuration
        self.operations = operations
        self.elapsed = elapsed
        self.logger = logger
        let path = configuration.path
        lossNote = AuditLossNote(path: path + ".lost", operations: operations)
        do throws(FileOperationError) {
            let descriptor = try operations.open(path, flags: Self.openFlags, mode: configuration.fileMode)
            do throws(FileOperationError) {
                let size = try operations.size(descriptor, path: path)
                var initial = State(descriptor: descriptor, size: size, lastSync: elapsed())
                initial.needsLineBreak = try Self.endsInsideLine(descriptor, size: size, operations, path: path)
                state = Locked(initial)
            } catch {
                try? operations.close(descriptor, path: path)
                throw error
            }
        } catch {
            throw AuditFileError(.openFailed, path: path, error)
        }
        carryOverLossNote()
    }

    /// Writes what the previous process noted it could not write (an
    /// `audit.dropped` entry), then empties the note at its full size, so a
    /// note at the next shutdown needs no free space.
    private func carryOverLossNote() {
        do throws(FileOperationError) {
            if let note = try lossNote.read() {
                do {
                    try write(note)
                    logger.notice("wrote the audit.dropped entry the previous process noted", metadata: ["path": "\(lossNote.path)"])
                } catch {
                    logger.error("could not write the noted audit.dropped entry; it stays noted", metadata: ["error": "\(error)"])
                    return
                }
                try lossNote.clear()
            } else {
                try lossNote.prepare()
            }
        } catch {
            logger.warning(
                "could not prepare the audit loss note; a loss at shutdown on a full disk would go unrecorded",
                metadata: ["path": "\(lossNote.path)", "error": "\(error)"])
        }
    }

    /// Notes `entry` in `PATH.lost` for the next start (see ``AuditSink/noteUndelivered(_:)``).
    public func noteUndelivered(_ entry: AuditEntry) throws -> Bool {
        do {
            try lossNote.write(entry)
        } catch {
            throw AuditFileError(.writeFailed, path: lossNote.path, error)
        }
        return true
    }

    deinit {
        // A sink dropped without close() still releases its descriptor; its
        // lines are in the page cache already.
        if let descriptor = state.withLock({ $0.descriptor }) {
            try? operations.close(descriptor, path: configuration.path)
        }
    }

    /// `AuditFileSink(PATH)`.
    public var description: String { "AuditFileSink(\(configuration.path))" }

    // Read-write only so the torn-line check at open can read the last byte.
    private static let openFlags = O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC

    // MARK: - AuditSink

    /// Appends the entry as one line, rotating first when the file is full,
    /// and syncing when the policy says so.
    ///
    /// - Throws: ``AuditFileError`` (`writeFailed`, `closed`) when the line did
    ///   not reach the file; nothing of it is left in the file then.
    public func write(_ entry: AuditEntry) throws(AuditFileError) {
        try state.withLock { (state) throws(AuditFileError) in
            guard state.descriptor != nil else {
                throw AuditFileError(.closed, path: configuration.path, "\(configuration.path): the audit sink is closed")
            }
            if state.reopenPending { openNewFile(&state) }
            state.writer.removeAll()
            entry.encode(into: &state.writer)
            state.writer.writeRaw("\n")
            let length = Int64(state.writer.bytes.count)
            if !state.reopenPending, state.size > 0, state.size + length > Int64(configuration.maxFileSize) {
                rotate(&state)
            }
            if state.needsLineBreak {
                try append([UInt8(ascii: "\n")], to: &state)
                state.needsLineBreak = false
            }
            let line = state.writer.bytes
            try append(line, to: &state)
            state.unsyncedEntries += 1
            if syncIsDue(state) { syncDeferringErrors(&state) }
        }
    }

    /// Syncs the file, and reports an `fsync` failure kept from an earlier write.
    ///
    /// - Throws: ``AuditFileError`` with code `syncFailed`.
    public func flush() throws(AuditFileError) {
        try state.withLock { (state) throws(AuditFileError) in
            guard let descriptor = state.descriptor else { return }
            let deferred = state.deferredSyncError
            state.deferredSyncError = nil
            do throws(FileOperationError) {
                try sync(descriptor, &state)
            } catch {
                throw AuditFileError(.syncFailed, path: configuration.path, error)
            }
            if let deferred { throw deferred }
        }
    }

    /// Syncs and closes the file. Later writes throw `closed`; closing twice
    /// does nothing.
    ///
    /// - Throws: ``AuditFileError`` (`syncFailed`, `closeFailed`); the file is
    ///   closed even then.
    public func close() throws(AuditFileError) {
        try state.withLock { (state) throws(AuditFileError) in
            guard let descriptor = state.descriptor else { return }
            state.descriptor = nil
            var failure = state.deferredSyncError
            do throws(FileOperationError) {
                try sync(descriptor, &state)
            } catch {
                failure = failure ?? AuditFileError(.syncFailed, path: configuration.path, error)
            }
            do throws(FileOperationError) {
                try operations.close(descriptor, path: configuration.path)
            } catch {
                failure = failure ?? AuditFileError(.closeFailed, path: configuration.path, error)
            }
            if let failure { throw failure }
        }
    }

    // MARK: - Writing

    /// Writes `bytes` at the end of the file; on failure leaves the file as it was.
    private func append(_ bytes: [UInt8], to state: inout State) throws(AuditFileError) {
        guard let descriptor = state.descriptor else { return }
        let path = configuration.path
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(FileOperationError) in try operations.writeAll(descriptor, buffer, path: path) }
        }
        switch result {
        case .success:
            state.size += Int64(bytes.count)
        case .failure(let error):
            if error.bytesWritten > 0 { cutPartialWrite(error.bytesWritten, &state) }
            throw AuditFileError(.writeFailed, path: path, error)
        }
    }

    /// Removes the start of a line that did not fit, so the file holds whole lines only.
    private func cutPartialWrite(_ written: Int, _ state: inout State) {
        guard let descriptor = state.descriptor else { return }
        do throws(FileOperationError) {
            try operations.truncate(descriptor, to: state.size, path: configuration.path)
        } catch {
            // The fragment stays; ending it before the next entry keeps that entry readable.
            state.size += Int64(written)
            state.needsLineBreak = true
            logger.error(
                "could not remove a partly written audit line; it will read as one malformed line",
                metadata: ["path": "\(configuration.path)", "error": "\(error)"])
        }
    }

    private func syncIsDue(_ state: State) -> Bool {
        switch configuration.fsync {
        case .never: false
        case .always: true
        case .everyEntries(let count): state.unsyncedEntries >= max(1, count)
        case .interval(let interval): elapsed() - state.lastSync >= interval
        }
    }

    private func sync(_ descriptor: Int32, _ state: inout State) throws(FileOperationError) {
        try operations.fsync(descriptor, path: configuration.path)
        state.unsyncedEntries = 0
        state.lastSync = elapsed()
    }

    private func syncDeferringErrors(_ state: inout State) {
        guard let descriptor = state.descriptor else { return }
        do throws(FileOperationError) {
            try sync(descriptor, &state)
        } catch {
            let failure = AuditFileError(.syncFailed, path: configuration.path, error)
            if state.deferredSyncError == nil {
                logger.error("audit fsync failed; recent entries may not be on disk", metadata: ["error": "\(failure)"])
            }
            state.deferredSyncError = failure
        }
    }

    // MARK: - Rotation

    private func rotate(_ state: inout State) {
        let path = configuration.path
        // The rotated file is complete on disk before it takes its new name.
        syncDeferringErrors(&state)
        let keep = max(1, configuration.maxRotatedFiles)
        do throws(FileOperationError) {
            for index in stride(from: keep - 1, through: 1, by: -1) {
                do {
                    try operations.rename("\(path).\(index)", to: "\(path).\(index + 1)")
                } catch {
                    // A gap in the numbers (fewer files so far) is not a failure.
                    if error.errno != ENOENT { throw error }
                }
            }
            try operations.rename(path, to: "\(path).1")
        } catch {
            if !state.rotationFailing {
                logger.error(
                    "audit file rotation failed; writing on past the size limit and retrying",
                    metadata: ["path": "\(path)", "error": "\(error)"])
            }
            state.rotationFailing = true
            return
        }
        state.rotationFailing = false
        let directory = POSIXFileOperations.directory(of: path)
        do throws(FileOperationError) {
            try operations.syncDirectory(directory)
        } catch {
            logger.warning("could not sync the audit directory after rotation", metadata: ["error": "\(error)"])
        }
        openNewFile(&state)
    }

    /// Switches to a new file at `path`; on failure keeps writing to the
    /// current (renamed) one and tries again at the next line.
    private func openNewFile(_ state: inout State) {
        let path = configuration.path
        do throws(FileOperationError) {
            let descriptor = try operations.open(path, flags: Self.openFlags, mode: configuration.fileMode)
            let size: Int64
            let torn: Bool
            do throws(FileOperationError) {
                size = try operations.size(descriptor, path: path)
                torn = try Self.endsInsideLine(descriptor, size: size, operations, path: path)
            } catch {
                try? operations.close(descriptor, path: path)
                throw error
            }
            if let old = state.descriptor { try? operations.close(old, path: "\(path).1") }
            state.descriptor = descriptor
            state.size = size
            state.needsLineBreak = torn
            state.unsyncedEntries = 0
            state.lastSync = elapsed()
            if state.reopenPending {
                logger.notice("audit file reopened after a failed rotation", metadata: ["path": "\(path)"])
            }
            state.reopenPending = false
        } catch {
            if !state.reopenPending {
                logger.error(
                    "could not create a new audit file after rotation; writing on to the rotated file",
                    metadata: ["path": "\(path)", "error": "\(error)"])
            }
            state.reopenPending = true
        }
    }

    /// True when a non-empty file's last byte is not a line break.
    private static func endsInsideLine(
        _ descriptor: Int32, size: Int64, _ operations: any FileOperations, path: String
    ) throws(FileOperationError) -> Bool {
        guard size > 0 else { return false }
        var last: UInt8 = 0
        let count = withUnsafeMutableBytes(of: &last) { buffer in
            Result { () throws(FileOperationError) in
                try operations.read(descriptor, into: buffer, at: size - 1, path: path)
            }
        }
        return try count.get() == 1 && last != UInt8(ascii: "\n")
    }
}
