/// Why a report could not be written: names the file and what was wrong.
public struct ReportError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        /// The path is empty, names a folder, or holds a NUL byte.
        case invalidPath
        /// The folder the file would go in does not exist or is not a folder.
        case missingFolder
        /// The folder or the file may not be written.
        case notWritable
        /// Writing or renaming failed part-way (disk full, I/O error).
        case writeFailed
    }

    public var code: Code
    /// The path as given.
    public var path: String
    public var message: String

    public init(_ code: Code, path: String, _ message: String) {
        self.code = code
        self.path = path
        self.message = message
    }

    /// `cannot write the report to out/run.html: the folder out does not exist`.
    public var description: String { "cannot write the report to \(path): \(message)" }
}
