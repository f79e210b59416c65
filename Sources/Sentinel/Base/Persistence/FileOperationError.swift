#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed system call on a file: which call, which path, which errno.
struct FileOperationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The call: `open`, `write`, `fsync`, `rename`, ...
    var operation: String
    /// The path (for a rename, `source -> destination`).
    var path: String
    /// The `errno` the call set.
    var errno: Int32
    /// For writes: how many bytes reached the file before the failure.
    var bytesWritten = 0

    /// True for the errors of a full or failing disk, which may pass:
    /// `ENOSPC`, `EDQUOT`, `EIO`.
    var isDiskFull: Bool { errno == ENOSPC || errno == EDQUOT || errno == EIO }

    /// `write /var/log/audit.jsonl: no space left on device (ENOSPC)`.
    var description: String { "\(operation) \(path): \(FileOperationError.describe(errno))" }

    /// A fixed text for the errnos files meet (fixed so messages do not depend
    /// on the C library's locale), and `errno N` for the rest.
    static func describe(_ code: Int32) -> String {
        switch code {
        case ENOSPC: "no space left on device (ENOSPC)"
        case EDQUOT: "disk quota exceeded (EDQUOT)"
        case EIO: "input/output error (EIO)"
        case ENOENT: "no such file or directory (ENOENT)"
        case EACCES: "permission denied (EACCES)"
        case EPERM: "operation not permitted (EPERM)"
        case EROFS: "read-only file system (EROFS)"
        case EEXIST: "file exists (EEXIST)"
        case EISDIR: "is a directory (EISDIR)"
        case ENOTDIR: "not a directory (ENOTDIR)"
        case EMFILE: "too many open files (EMFILE)"
        case ENFILE: "too many open files in the system (ENFILE)"
        case EBADF: "bad file descriptor (EBADF)"
        case EXDEV: "cross-device rename (EXDEV)"
        case EFBIG: "file too large (EFBIG)"
        case ENAMETOOLONG: "file name too long (ENAMETOOLONG)"
        case EINVAL: "invalid argument (EINVAL)"
        default: "errno \(code)"
        }
    }
}
