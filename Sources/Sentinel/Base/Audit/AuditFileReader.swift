#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads an audit file (JSON Lines, as ``AuditFileSink`` writes it) back into
/// entries.
///
/// Nothing is printed: problems are returned as ``Issue``s with their line
/// numbers, and the good lines are still read.
/// - A last line without its line break that is not a whole entry is a torn
///   write (the process or machine stopped mid-line): it is skipped with a
///   warning (``Issue/Kind/tornLastLine``). A whole entry missing only its
///   line break is read normally.
/// - Any other line that is not an entry is ``Issue/Kind/malformedLine``, with
///   the column of a JSON error or the field at fault. (A line torn by a crash
///   and followed by entries written after a restart is reported this way.)
/// - Blank lines are ignored.
///
/// ```swift
/// let contents = try AuditFileReader(path: "/var/log/sentinel/audit.jsonl").read()
/// for issue in contents.issues { print(issue) }   // audit.jsonl:812: column 40: ...
/// let denied = contents.entries.filter { $0.outcome == .denied }
/// ```
public struct AuditFileReader: Sendable {
    /// A line that was not read as an entry.
    public struct Issue: Sendable, Hashable, CustomStringConvertible {
        /// What kind of problem.
        public enum Kind: Sendable, Hashable {
            /// The last line is incomplete; skipped. A warning: expected after a crash.
            case tornLastLine
            /// A line that is not a valid entry. An error: the file was damaged or edited.
            case malformedLine
        }

        /// What kind of problem.
        public var kind: Kind
        /// The file.
        public var path: String
        /// The line, from 1.
        public var line: Int
        /// What was wrong.
        public var message: String

        /// Makes an issue.
        public init(kind: Kind, path: String, line: Int, message: String) {
            self.kind = kind
            self.path = path
            self.line = line
            self.message = message
        }

        /// `path:line: message`.
        public var description: String { "\(path):\(line): \(message)" }
    }

    /// What a file held.
    public struct Contents: Sendable, Hashable {
        /// The entries, in file order.
        public var entries: [AuditEntry]
        /// Every line that was not read, in file order.
        public var issues: [Issue]

        /// Makes contents.
        public init(entries: [AuditEntry] = [], issues: [Issue] = []) {
            self.entries = entries
            self.issues = issues
        }

        /// The torn last line, if any: a warning.
        public var warnings: [Issue] { issues.filter { $0.kind == .tornLastLine } }
        /// The malformed lines: errors.
        public var malformedLines: [Issue] { issues.filter { $0.kind == .malformedLine } }
    }

    /// The file to read.
    public let path: String
    let operations: any FileOperations

    /// Makes a reader for the file at `path`.
    public init(path: String) {
        self.init(path: path, operations: POSIXFileOperations())
    }

    init(path: String, operations: any FileOperations) {
        self.path = path
        self.operations = operations
    }

    /// Reads the file.
    ///
    /// - Throws: ``AuditFileError`` with code `readFailed` when the file is
    ///   missing or cannot be read. Bad lines do not throw; see ``Contents/issues``.
    public func read() throws(AuditFileError) -> Contents {
        let bytes: [UInt8]?
        do throws(FileOperationError) {
            bytes = try operations.readFile(path)
        } catch {
            throw AuditFileError(.readFailed, path: path, error)
        }
        guard let bytes else {
            throw AuditFileError(
                .readFailed, path: path, errno: ENOENT, "open \(path): \(FileOperationError.describe(ENOENT))")
        }
        return Self.decode(bytes, path: path)
    }

    /// Reads the rotated files and then the live one, oldest first:
    /// `path.N`, …, `path.1`, `path`. Missing files are skipped (fewer
    /// rotations so far); issues name the file they are in.
    ///
    /// - Parameter maxRotatedFiles: the sink's ``AuditFileSink/Configuration/maxRotatedFiles``.
    public func readWithRotated(maxRotatedFiles: Int) throws(AuditFileError) -> Contents {
        var all = Contents()
        let paths = stride(from: max(0, maxRotatedFiles), through: 1, by: -1).map { "\(path).\($0)" } + [path]
        for file in paths {
            let bytes: [UInt8]?
            do throws(FileOperationError) {
                bytes = try operations.readFile(file)
            } catch {
                throw AuditFileError(.readFailed, path: file, error)
            }
            guard let bytes else { continue }
            let contents = Self.decode(bytes, path: file)
            all.entries += contents.entries
            all.issues += contents.issues
        }
        return all
    }

    /// Reads entries from the bytes of an audit file; `path` only names the
    /// file in issues.
    public static func decode(_ bytes: [UInt8], path: String) -> Contents {
        var contents = Contents()
        let parser = JSONParser()
        bytes.withUnsafeBufferPointer { buffer in
            var lineStart = 0
            var lineNumber = 0
            while lineStart < buffer.count {
                lineNumber += 1
                var lineEnd = lineStart
                while lineEnd < buffer.count, buffer[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
                let terminated = lineEnd < buffer.count
                let line = UnsafeBufferPointer(rebasing: buffer[lineStart..<lineEnd])
                defer { lineStart = lineEnd + 1 }
                if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\r") }) {
                    continue
                }
                switch decodeLine(line, parser: parser) {
                case .success(let entry):
                    contents.entries.append(entry)
                case .failure(let error) where !terminated:
                    contents.issues.append(
                        Issue(
                            kind: .tornLastLine, path: path, line: lineNumber,
                            message:
                                "the last line is incomplete (a write cut short, for example by a crash) and was skipped: \(error.message)")
                    )
                case .failure(let error):
                    contents.issues.append(Issue(kind: .malformedLine, path: path, line: lineNumber, message: error.message))
                }
            }
        }
        return contents
    }

    private static func decodeLine(
        _ line: UnsafeBufferPointer<UInt8>, parser: JSONParser
    ) -> Result<
        AuditEntry, AuditDecodingError
    > {
        switch parser.parseResult(line) {
        case .failure(let error):
            return .failure(
                AuditDecodingError(.malformedJSON, field: nil, "column \(error.column): \(error.message)", jsonError: error))
        case .success(let value):
            return Result { () throws(AuditDecodingError) in try AuditEntry(jsonObject: value) }
        }
    }
}
