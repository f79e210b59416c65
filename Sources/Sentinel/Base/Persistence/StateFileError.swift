/// Why a state file could not be saved or loaded.
///
/// ``message`` names the file and what was wrong:
/// `/var/lib/sentinel/state.json: line 7, column 3: expected ',' or '}' after a member of an object, found '"'`,
/// `/var/lib/sentinel/state.json: version 7 is newer than this build understands (1)`.
/// On a load error, start from the configured defaults and keep the file for
/// inspection; the next save replaces it.
public struct StateFileError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private let raw: String
        private init(_ raw: String) { self.raw = raw }
        /// The file is empty.
        public static let empty = Code("empty")
        /// The file ends before its JSON is complete.
        public static let truncated = Code("truncated")
        /// The file is not valid JSON; ``StateFileError/line`` and ``StateFileError/column`` say where.
        public static let malformed = Code("malformed")
        /// The JSON is valid but not a state (a missing, misspelt or mistyped field).
        public static let invalidContent = Code("invalid_content")
        /// A newer build wrote the file.
        public static let versionTooNew = Code("version_too_new")
        /// The version is not one any build wrote (zero or negative).
        public static let unsupportedVersion = Code("unsupported_version")
        /// A system call failed (permissions, a full disk, a missing directory).
        public static let io = Code("io")
        /// The code as a snake_case string.
        public var description: String { raw }
    }

    /// The kind of failure.
    public var code: Code
    /// The state file.
    public var path: String
    /// What was wrong, without the path.
    public var detail: String
    /// The line of a JSON error, from 1.
    public var line: Int?
    /// The column of a JSON error, from 1.
    public var column: Int?
    /// The system's error number, for ``Code/io``.
    public var errno: Int32?

    /// Makes an error.
    public init(_ code: Code, path: String, _ detail: String, line: Int? = nil, column: Int? = nil, errno: Int32? = nil) {
        self.code = code
        self.path = path
        self.detail = detail
        self.line = line
        self.column = column
        self.errno = errno
    }

    /// `path: detail`.
    public var message: String { path.isEmpty ? detail : "\(path): \(detail)" }

    /// The message.
    public var description: String { message }
}
