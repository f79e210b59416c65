#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension HTMLReport {
    /// Checks that a report can be written at `path` before a run spends
    /// time on it: the path names a file (not a folder, not a device), in a
    /// folder that exists and may be written.
    ///
    /// - Throws: ``ReportError`` naming the path and what is wrong.
    public static func checkDestination(_ path: String) throws(ReportError) {
        guard !path.isEmpty else { throw ReportError(.invalidPath, path: path, "the path is empty") }
        guard !path.utf8.contains(0) else { throw ReportError(.invalidPath, path: path, "the path holds a NUL byte") }
        guard !path.hasSuffix("/") else { throw ReportError(.invalidPath, path: path, "the path names a folder, not a file") }
        var status = stat()
        if stat(path, &status) == 0 {
            if status.st_mode & S_IFMT == S_IFDIR { throw ReportError(.invalidPath, path: path, "it is a folder") }
            if status.st_mode & S_IFMT != S_IFREG {
                throw ReportError(.invalidPath, path: path, "it exists and is not a regular file")
            }
        }
        let folder = folder(of: path)
        guard stat(folder, &status) == 0 else {
            throw ReportError(.missingFolder, path: path, "the folder \(folder) does not exist")
        }
        guard status.st_mode & S_IFMT == S_IFDIR else {
            throw ReportError(.missingFolder, path: path, "\(folder) is not a folder")
        }
        guard access(folder, W_OK | X_OK) == 0 else {
            throw ReportError(.notWritable, path: path, "the folder \(folder) is not writable (\(Self.errorText(errno)))")
        }
    }

    /// Writes the page to `path` whole or not at all: into a temporary file
    /// beside it, then renamed over it.
    ///
    /// - Throws: ``ReportError`` naming the path and the system's reason.
    public func write(to path: String) throws(ReportError) {
        try Self.checkDestination(path)
        let folder = Self.folder(of: path)
        let name = path.split(separator: "/").last.map(String.init) ?? "report"
        var template = Array("\(folder)/.\(name).XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else {
            throw ReportError(.notWritable, path: path, "cannot create a file in \(folder) (\(Self.errorText(errno)))")
        }
        let temporary = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var failure: String?
        let bytes = Array(html.utf8)
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = writeBytes(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = Self.errorText(errno)
                    return
                }
                offset += written
            }
        }
        if failure == nil, fchmod(descriptor, 0o644) != 0 || fsync(descriptor) != 0 { failure = Self.errorText(errno) }
        if close(descriptor) != 0, failure == nil { failure = Self.errorText(errno) }
        if failure == nil, rename(temporary, path) != 0 { failure = Self.errorText(errno) }
        if let failure {
            unlink(temporary)
            throw ReportError(.writeFailed, path: path, failure)
        }
    }

    static func folder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let folder = String(path[..<slash])
        return folder.isEmpty ? "/" : folder
    }

    static func errorText(_ code: Int32) -> String {
        strerror(code).map { String(cString: $0) } ?? "error \(code)"
    }
}

/// `write(2)`, named apart from ``HTMLReport/write(to:)``.
private func writeBytes(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    Glibc.write(descriptor, bytes, count)
    #else
    Darwin.write(descriptor, bytes, count)
    #endif
}
