#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The system calls the audit file sink and the state file make, behind a
/// protocol so tests can make a call fail (a full disk, a failed rename) and
/// then succeed again.
///
/// Every method makes one system call (retrying `EINTR`) and reports failure
/// as a ``FileOperationError`` naming the call, the path and the errno.
protocol FileOperations: Sendable {
    /// `open(2)`; returns the descriptor.
    func open(_ path: String, flags: Int32, mode: UInt32) throws(FileOperationError) -> Int32
    /// One `write(2)`; returns how many bytes were written (possibly fewer).
    func write(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(FileOperationError) -> Int
    /// One `read(2)`; returns how many bytes were read, 0 at the end.
    func read(
        _ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, path: String
    ) throws(FileOperationError)
        -> Int
    /// One `pread(2)` at `offset`.
    func read(
        _ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64, path: String
    )
        throws(FileOperationError) -> Int
    /// `pwrite(2)`: writes at `offset` without moving the file position; a
    /// short count is possible.
    func write(
        _ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int64, path: String
    )
        throws(FileOperationError) -> Int
    /// `fsync(2)`.
    func fsync(_ descriptor: Int32, path: String) throws(FileOperationError)
    /// `ftruncate(2)`.
    func truncate(_ descriptor: Int32, to size: Int64, path: String) throws(FileOperationError)
    /// The size from `fstat(2)`.
    func size(_ descriptor: Int32, path: String) throws(FileOperationError) -> Int64
    /// `rename(2)`.
    func rename(_ source: String, to destination: String) throws(FileOperationError)
    /// `unlink(2)`.
    func unlink(_ path: String) throws(FileOperationError)
    /// `close(2)`.
    func close(_ descriptor: Int32, path: String) throws(FileOperationError)
}

/// The real system calls.
struct POSIXFileOperations: FileOperations {
    func open(_ path: String, flags: Int32, mode: UInt32) throws(FileOperationError) -> Int32 {
        while true {
            let descriptor = systemOpen(path, flags, mode_t(mode))
            if descriptor >= 0 { return descriptor }
            if errno != EINTR { throw FileOperationError(operation: "open", path: path, errno: errno) }
        }
    }

    func write(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(FileOperationError) -> Int {
        while true {
            let written = systemWrite(descriptor, bytes.baseAddress, bytes.count)
            if written >= 0 { return written }
            if errno != EINTR { throw FileOperationError(operation: "write", path: path, errno: errno) }
        }
    }

    func read(
        _ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, path: String
    ) throws(FileOperationError)
        -> Int
    {
        while true {
            let count = systemRead(descriptor, buffer.baseAddress, buffer.count)
            if count >= 0 { return count }
            if errno != EINTR { throw FileOperationError(operation: "read", path: path, errno: errno) }
        }
    }

    func read(
        _ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64, path: String
    )
        throws(FileOperationError) -> Int
    {
        while true {
            let count = pread(descriptor, buffer.baseAddress, buffer.count, off_t(offset))
            if count >= 0 { return count }
            if errno != EINTR { throw FileOperationError(operation: "read", path: path, errno: errno) }
        }
    }

    func write(
        _ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int64, path: String
    )
        throws(FileOperationError) -> Int
    {
        while true {
            let written = pwrite(descriptor, bytes.baseAddress, bytes.count, off_t(offset))
            if written >= 0 { return written }
            if errno != EINTR { throw FileOperationError(operation: "pwrite", path: path, errno: errno) }
        }
    }

    func fsync(_ descriptor: Int32, path: String) throws(FileOperationError) {
        while systemFsync(descriptor) != 0 {
            if errno != EINTR { throw FileOperationError(operation: "fsync", path: path, errno: errno) }
        }
    }

    func truncate(_ descriptor: Int32, to size: Int64, path: String) throws(FileOperationError) {
        while ftruncate(descriptor, off_t(size)) != 0 {
            if errno != EINTR { throw FileOperationError(operation: "ftruncate", path: path, errno: errno) }
        }
    }

    func size(_ descriptor: Int32, path: String) throws(FileOperationError) -> Int64 {
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw FileOperationError(operation: "fstat", path: path, errno: errno)
        }
        return Int64(status.st_size)
    }

    func rename(_ source: String, to destination: String) throws(FileOperationError) {
        guard systemRename(source, destination) == 0 else {
            throw FileOperationError(operation: "rename", path: "\(source) -> \(destination)", errno: errno)
        }
    }

    func unlink(_ path: String) throws(FileOperationError) {
        guard systemUnlink(path) == 0 else { throw FileOperationError(operation: "unlink", path: path, errno: errno) }
    }

    func close(_ descriptor: Int32, path: String) throws(FileOperationError) {
        // Not retried on EINTR: on Linux the descriptor is released anyway, and a
        // retry could close a descriptor another thread has just been given.
        guard systemClose(descriptor) == 0 else {
            throw FileOperationError(operation: "close", path: path, errno: errno)
        }
    }
}

// The C functions under names that the methods above do not shadow.
private func systemOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 { open(path, flags, mode) }
private func systemWrite(_ fd: Int32, _ bytes: UnsafeRawPointer?, _ count: Int) -> Int { write(fd, bytes, count) }
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int { read(fd, buffer, count) }
private func systemFsync(_ fd: Int32) -> Int32 { fsync(fd) }
private func systemRename(_ source: String, _ destination: String) -> Int32 { rename(source, destination) }
private func systemUnlink(_ path: String) -> Int32 { unlink(path) }
private func systemClose(_ fd: Int32) -> Int32 { close(fd) }

// MARK: - Helpers built on the calls

extension FileOperations {
    /// Writes all of `bytes`, looping over short writes.
    ///
    /// On failure the error's ``FileOperationError/bytesWritten`` says how much
    /// reached the file, so the caller can cut a partial line off again.
    func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(FileOperationError) {
        var offset = 0
        while offset < bytes.count {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
            do throws(FileOperationError) {
                let written = try write(descriptor, rest, path: path)
                // A regular file that takes zero bytes is as full as one that says ENOSPC.
                if written == 0 {
                    throw FileOperationError(operation: "write", path: path, errno: ENOSPC)
                }
                offset += written
            } catch {
                var error = error
                error.bytesWritten = offset
                throw error
            }
        }
    }

    /// The whole file, or nil when it does not exist.
    func readFile(_ path: String) throws(FileOperationError) -> [UInt8]? {
        let descriptor: Int32
        do {
            descriptor = try open(path, flags: O_RDONLY | O_CLOEXEC, mode: 0)
        } catch {
            if error.errno == ENOENT { return nil }
            throw error
        }
        defer { try? close(descriptor, path: path) }
        var contents: [UInt8] = []
        let chunk = 64 * 1024
        while true {
            let start = contents.count
            contents.append(contentsOf: repeatElement(0, count: chunk))
            let result = contents.withUnsafeMutableBytes { buffer in
                Result { () throws(FileOperationError) -> Int in
                    try read(descriptor, into: UnsafeMutableRawBufferPointer(rebasing: buffer[start...]), path: path)
                }
            }
            let count = try result.get()
            contents.removeLast(chunk - count)
            if count == 0 { return contents }
        }
    }

    /// Makes a rename in `directory` durable: `fsync(2)` on the directory.
    func syncDirectory(_ directory: String) throws(FileOperationError) {
        let descriptor = try open(directory, flags: O_RDONLY | O_DIRECTORY | O_CLOEXEC, mode: 0)
        defer { try? close(descriptor, path: directory) }
        try fsync(descriptor, path: directory)
    }

    /// The directory part of a path (`.` for a bare file name).
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }
}
