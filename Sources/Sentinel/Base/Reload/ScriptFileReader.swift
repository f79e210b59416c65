#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What reading one directory entry found.
enum ScriptFileReadResult: Sendable, Hashable {
    /// The bytes of a regular file within the size cap.
    case contents([UInt8])
    /// The entry exists but cannot be used, and why.
    case unreadable(reason: String)
    /// The entry disappeared between listing and reading.
    case missing
}

/// Reads script files and lists folders with plain system calls, so that a
/// FIFO, a device or a huge file can never block or exhaust the watcher.
///
/// The order of checks is what makes it safe:
/// 1. `lstat`, then `stat` through a symbolic link: anything that is not a
///    regular file is refused before it is opened (opening a FIFO for
///    reading blocks until a writer comes);
/// 2. `open` with `O_NONBLOCK`, because the entry may have been swapped for a
///    FIFO since step 1, and `fstat` of the descriptor: the check that counts
///    is the one on what was actually opened;
/// 3. a size check on the `fstat` size, then reads that stop one byte past
///    the cap, because a file can grow while it is read.
struct ScriptFileReader: Sendable {
    /// Opens a path; returns the descriptor or the `errno` of the failure.
    typealias Opener = @Sendable (_ path: String, _ flags: Int32) -> Result<Int32, ReadFailure>

    /// An `errno` value from a failed call.
    struct ReadFailure: Error, Hashable {
        var code: Int32
    }

    /// The largest file, in bytes, that is read.
    let maximumFileSize: Int

    /// How files are opened; tests replace it to make `open` fail the way a
    /// real permission problem does (the tests run as root, which reads
    /// every file whatever its mode).
    let open: Opener

    init(maximumFileSize: Int, open: @escaping Opener = ScriptFileReader.openWithoutMode) {
        self.maximumFileSize = maximumFileSize
        self.open = open
    }

    // MARK: - Files

    /// Reads the entry at `path`, following symbolic links.
    func read(path: String) -> ScriptFileReadResult {
        var status = stat()
        if lstat(path, &status) != 0 {
            return errno == ENOENT ? .missing : .unreadable(reason: Self.describe(errno: errno))
        }
        if Self.isSymbolicLink(status.st_mode) {
            // A ConfigMap file is `x.lua -> ..data/x.lua`: what counts is the target.
            if stat(path, &status) != 0 {
                let code = errno
                if code == ENOENT { return .unreadable(reason: "a symbolic link to a missing file") }
                return .unreadable(reason: Self.describe(errno: code))
            }
        }
        if let kind = Self.nonRegularKind(status.st_mode) {
            return .unreadable(reason: "not a regular file (\(kind))")
        }
        if Int64(status.st_size) > Int64(maximumFileSize) {
            return .unreadable(reason: tooLarge(size: Int64(status.st_size)))
        }
        return readOpened(path: path)
    }

    /// Opens `path` without blocking and reads it if the opened file is a
    /// regular file within the cap. `read(path:)` calls this after its checks;
    /// tests call it directly to show that the descriptor check alone refuses
    /// a FIFO.
    func readOpened(path: String) -> ScriptFileReadResult {
        let descriptor: Int32
        switch open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY) {
        case .success(let opened): descriptor = opened
        case .failure(let failure):
            return failure.code == ENOENT ? .missing : .unreadable(reason: Self.describe(errno: failure.code))
        }
        defer { _ = close(descriptor) }

        var status = stat()
        if fstat(descriptor, &status) != 0 {
            return .unreadable(reason: Self.describe(errno: errno))
        }
        if let kind = Self.nonRegularKind(status.st_mode) {
            return .unreadable(reason: "not a regular file (\(kind))")
        }
        let size = Int64(status.st_size)
        if size > Int64(maximumFileSize) {
            return .unreadable(reason: tooLarge(size: size))
        }
        return readAll(descriptor, expectedSize: Int(size))
    }

    private func readAll(_ descriptor: Int32, expectedSize: Int) -> ScriptFileReadResult {
        // One byte past the cap is enough to know the file outgrew it.
        let limit = maximumFileSize + 1
        var bytes = [UInt8](repeating: 0, count: min(limit, max(expectedSize + 1, 4096)))
        var count = 0
        while count < limit {
            if count == bytes.count {
                bytes.append(contentsOf: repeatElement(0, count: min(limit - count, bytes.count)))
            }
            let got = bytes.withUnsafeMutableBytes { buffer in
                systemRead(descriptor, buffer.baseAddress! + count, buffer.count - count)
            }
            if got > 0 {
                count += got
            } else if got == 0 {
                break
            } else if errno != EINTR {
                return .unreadable(reason: "read error: " + Self.describe(errno: errno))
            }
        }
        if count > maximumFileSize {
            return .unreadable(reason: tooLarge(size: nil))
        }
        bytes.removeSubrange(count...)
        return .contents(bytes)
    }

    private func tooLarge(size: Int64?) -> String {
        let limit = "larger than the \(Self.describe(byteCount: maximumFileSize)) limit"
        guard let size else { return limit + " (it grew while being read)" }
        return limit + " (\(size) bytes)"
    }

    // MARK: - Folders

    /// Why a folder could not be listed.
    struct FolderFailure: Error, Hashable {
        /// True when the folder does not exist (or is not a folder): its
        /// scripts are gone. False for problems that leave them in place.
        var isMissing: Bool
        var reason: String
    }

    /// The entries of `folder` (not `.` and `..`), sorted by name.
    ///
    /// Names that are not valid UTF-8 are skipped: no script name could be
    /// made from them.
    static func listFolder(_ folder: String) -> Result<[String], FolderFailure> {
        guard let directory = opendir(folder) else {
            let code = errno
            switch code {
            case ENOENT: return .failure(FolderFailure(isMissing: true, reason: "folder does not exist"))
            case ENOTDIR: return .failure(FolderFailure(isMissing: true, reason: "not a folder"))
            default: return .failure(FolderFailure(isMissing: false, reason: describe(errno: code)))
            }
        }
        defer { closedir(directory) }
        var names: [String] = []
        while true {
            // readdir returns nil both at the end and on an error; only errno tells.
            errno = 0
            guard let entry = readdir(directory) else {
                if errno != 0 {
                    return .failure(FolderFailure(isMissing: false, reason: "read error: " + describe(errno: errno)))
                }
                break
            }
            let name = withUnsafePointer(to: &entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: entry.pointee.d_name)) {
                    String(validatingCString: $0)
                }
            }
            guard let name, name != ".", name != ".." else { continue }
            names.append(name)
        }
        names.sort()
        return .success(names)
    }

    // MARK: - Descriptions

    /// `open(2)` with `mode` 0, retrying `EINTR`.
    static let openWithoutMode: Opener = { path, flags in
        while true {
            let descriptor = systemOpen(path, flags)
            if descriptor >= 0 { return .success(descriptor) }
            if errno != EINTR { return .failure(ReadFailure(code: errno)) }
        }
    }

    /// A failure in words: `permission denied` for the common case an
    /// operator must fix, otherwise the system's message and the number.
    static func describe(errno code: Int32) -> String {
        switch code {
        case EACCES, EPERM: "permission denied"
        case ELOOP: "too many levels of symbolic links"
        default: String(cString: strerror(code)).lowercased() + " (errno \(code))"
        }
    }

    /// `1 MiB`, `64 KiB` or `1000 bytes`.
    static func describe(byteCount: Int) -> String {
        if byteCount >= 1 << 20, byteCount % (1 << 20) == 0 { return "\(byteCount >> 20) MiB" }
        if byteCount >= 1 << 10, byteCount % (1 << 10) == 0 { return "\(byteCount >> 10) KiB" }
        return "\(byteCount) bytes"
    }

    private static func isSymbolicLink(_ mode: mode_t) -> Bool { mode & S_IFMT == S_IFLNK }

    /// Nil for a regular file, otherwise what the entry is, for the reason text.
    static func nonRegularKind(_ mode: mode_t) -> String? {
        switch mode & S_IFMT {
        case S_IFREG: nil
        case S_IFIFO: "a FIFO"
        case S_IFDIR: "a folder"
        case S_IFSOCK: "a socket"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFLNK: "a symbolic link"
        default: "an unknown kind of file"
        }
    }
}

// The struct's own `read` and `open` members hide the C functions inside it.
private func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}

private func systemOpen(_ path: String, _ flags: Int32) -> Int32 { open(path, flags) }
