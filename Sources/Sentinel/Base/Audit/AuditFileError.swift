/// Why an audit file could not be opened, written, synced, rotated, closed or read.
///
/// The message names the file and the system error:
/// `write /var/log/sentinel/audit.jsonl: no space left on device (ENOSPC)`.
public struct AuditFileError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private let raw: String
        private init(_ raw: String) { self.raw = raw }
        /// The file could not be opened or created.
        public static let openFailed = Code("open_failed")
        /// A line could not be written (the disk is full, a quota is reached, I/O failed).
        public static let writeFailed = Code("write_failed")
        /// `fsync` failed: lines written before may not be on disk.
        public static let syncFailed = Code("sync_failed")
        /// Closing the file failed.
        public static let closeFailed = Code("close_failed")
        /// The file could not be read.
        public static let readFailed = Code("read_failed")
        /// The sink was closed before this call.
        public static let closed = Code("closed")
        /// The code as a snake_case string.
        public var description: String { raw }
    }

    /// The kind of failure.
    public var code: Code
    /// The audit file.
    public var path: String
    /// The system's error number, when a system call failed.
    public var errno: Int32?
    /// What failed, naming the file and the system error.
    public var message: String

    /// Makes an error.
    public init(_ code: Code, path: String, errno: Int32? = nil, _ message: String) {
        self.code = code
        self.path = path
        self.errno = errno
        self.message = message
    }

    init(_ code: Code, path: String, _ error: FileOperationError) {
        self.init(code, path: path, errno: error.errno, error.description)
    }

    /// The message.
    public var description: String { message }
}
