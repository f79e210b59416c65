#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A small file beside the audit file (`audit.jsonl.lost`) where a stopping
/// process notes the entries it could not write, so that the next start
/// writes the `audit.dropped` entry and no gap in the audit is silent.
///
/// The note matters most when the disk is full, so it must not need free
/// space: the file is made at start with its whole size written (4 KiB of
/// spaces), and a note later overwrites blocks the file already owns. One
/// note at a time: it holds the `audit.dropped` entry itself as a JSON line.
struct AuditLossNote {
    /// The file's size: room for one entry line.
    static let size = 4096

    let path: String
    let operations: any FileOperations

    /// The entry a previous process noted, if any (spaces: no note).
    func read() throws(FileOperationError) -> AuditEntry? {
        try inspect().note
    }

    /// Makes sure the file is ready for a note: full size and empty. Does
    /// nothing when it already is (no write, no sync at every start).
    func prepare() throws(FileOperationError) {
        let (note, fullSize) = try inspect()
        if note == nil, fullSize { return }
        // Not synced: an empty note lost in a crash is made again at the next start.
        try store([UInt8](repeating: UInt8(ascii: " "), count: Self.size), sync: false)
    }

    /// The note, and whether the file is at its full size.
    private func inspect() throws(FileOperationError) -> (note: AuditEntry?, fullSize: Bool) {
        let descriptor: Int32
        do {
            descriptor = try operations.open(path, flags: O_RDONLY | O_CLOEXEC, mode: 0)
        } catch {
            if error.errno == ENOENT { return (nil, false) }
            throw error
        }
        defer { try? operations.close(descriptor, path: path) }
        var bytes = [UInt8](repeating: 0, count: Self.size)
        let result = bytes.withUnsafeMutableBytes { buffer in
            Result { () throws(FileOperationError) in try operations.read(descriptor, into: buffer, at: 0, path: path) }
        }
        let count = try result.get()
        let fullSize = try operations.size(descriptor, path: path) == Int64(Self.size)
        let line = Array(bytes[..<count].prefix { $0 != UInt8(ascii: "\n") && $0 != 0 })
        guard line.first == UInt8(ascii: "{") else { return (nil, fullSize) }
        let parsed = line.withUnsafeBufferPointer { JSONParser().parseResult($0) }
        guard case .success(let value) = parsed, let entry = try? AuditEntry(jsonObject: value) else {
            return (nil, false)  // unreadable: rewrite it
        }
        return (entry, fullSize)
    }

    /// Makes the file hold no note, at its full size, synced: called at start,
    /// after any note was carried into the audit.
    func clear() throws(FileOperationError) {
        try store([UInt8](repeating: UInt8(ascii: " "), count: Self.size))
    }

    /// Notes `entry` (its reason shortened if the line would not fit).
    func write(_ entry: AuditEntry) throws(FileOperationError) {
        var note = entry
        var writer = JSONWriter(capacity: Self.size)
        while true {
            writer.removeAll()
            note.encode(into: &writer)
            if writer.bytes.count < Self.size { break }
            let reason = note.reason ?? ""
            guard reason.count > 16 else { break }
            note.reason = String(reason.prefix(reason.count / 2)) + "…"
        }
        var bytes = Array(writer.bytes.prefix(Self.size - 1))
        bytes.append(UInt8(ascii: "\n"))
        bytes += [UInt8](repeating: UInt8(ascii: " "), count: Self.size - bytes.count)
        try store(bytes)
    }

    /// Overwrites the file from its start and syncs it; a file that is
    /// already full-size takes no new space.
    private func store(_ bytes: [UInt8], sync: Bool = true) throws(FileOperationError) {
        let descriptor = try operations.open(path, flags: O_WRONLY | O_CREAT | O_CLOEXEC, mode: 0o640)
        defer { try? operations.close(descriptor, path: path) }
        var offset = 0
        while offset < bytes.count {
            let result = bytes.withUnsafeBytes { buffer in
                Result { () throws(FileOperationError) in
                    try operations.write(
                        descriptor, UnsafeRawBufferPointer(rebasing: buffer[offset...]), at: Int64(offset), path: path)
                }
            }
            let written = try result.get()
            guard written > 0 else { throw FileOperationError(operation: "pwrite", path: path, errno: EIO) }
            offset += written
        }
        if sync { try operations.fsync(descriptor, path: path) }
    }
}
