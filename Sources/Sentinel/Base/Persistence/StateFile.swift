import Resilience
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The file the control plane's state is saved to and restored from.
///
/// Saves are atomic: the state is written to `PATH.tmp` in the same directory,
/// synced, renamed over `PATH`, and the directory is synced. A crash at any
/// point leaves either the previous file or the new one, never a mix; a
/// temporary file left behind by a crash is ignored by ``load()`` and replaced
/// by the next save.
///
/// The file is pretty-printed JSON (one member per line, keys sorted) so that
/// an operator can read and diff it; see ``PersistedState/jsonValue``.
///
/// ```swift
/// let file = StateFile(path: "/var/lib/sentinel/state.json")
/// do {
///     if let state = try file.load() { restore(state) }
/// } catch {
///     logger.error("\(error); starting from configured defaults")
/// }
/// try file.save(currentState())
/// ```
///
/// Saves through one `StateFile` (and its copies) are serialized; two
/// `StateFile`s or two processes must not save to the same path.
public struct StateFile: Sendable {
    /// The state file.
    public let path: String
    private let operations: any FileOperations
    /// Shared by copies: two saves at once would share the temporary file.
    private let saving: SaveLock

    /// Makes a handle on the state file at `path` (nothing is opened yet).
    public init(path: String) {
        self.init(path: path, operations: POSIXFileOperations())
    }

    init(path: String, operations: any FileOperations) {
        self.path = path
        self.operations = operations
        saving = SaveLock()
    }

    /// The temporary file a save writes before renaming it over ``path``.
    public var temporaryPath: String { path + ".tmp" }

    // MARK: - Saving

    /// Writes `state` atomically: a crash or an error leaves the previous save intact.
    ///
    /// - Throws: ``StateFileError`` with code `io`, naming the call and the
    ///   system error. The temporary file is removed on failure.
    public func save(_ state: PersistedState) throws(StateFileError) {
        var writer = JSONWriter(style: .pretty, capacity: 4096)
        writer.write(state.jsonValue)
        writer.writeRaw("\n")
        let bytes = writer.bytes
        let result = saving.lock.withLock { _ in
            Result { () throws(FileOperationError) in try writeAtomically(bytes) }
        }
        do throws(FileOperationError) {
            try result.get()
        } catch {
            throw StateFileError(.io, path: path, "could not save: \(error)", errno: error.errno)
        }
    }

    private func writeAtomically(_ bytes: [UInt8]) throws(FileOperationError) {
        let temporary = temporaryPath
        // O_TRUNC: a temporary file left by a crashed save is simply overwritten.
        let descriptor = try operations.open(
            temporary, flags: O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode: 0o644)
        do throws(FileOperationError) {
            try bytes.withUnsafeBytes { buffer in
                Result { () throws(FileOperationError) in try operations.writeAll(descriptor, buffer, path: temporary) }
            }.get()
            // The data must be on disk before the rename makes it the state file.
            try operations.fsync(descriptor, path: temporary)
        } catch {
            try? operations.close(descriptor, path: temporary)
            try? operations.unlink(temporary)
            throw error
        }
        do throws(FileOperationError) {
            try operations.close(descriptor, path: temporary)
            try operations.rename(temporary, to: path)
        } catch {
            try? operations.unlink(temporary)
            throw error
        }
        // Makes the rename itself survive a power loss.
        try operations.syncDirectory(POSIXFileOperations.directory(of: path))
    }

    // MARK: - Loading

    /// Reads the state file.
    ///
    /// - Returns: the state, or nil when the file does not exist (a first start).
    /// - Throws: ``StateFileError`` when the file is empty, truncated, not
    ///   JSON, not a state, of another version, or unreadable. Never crashes.
    public func load() throws(StateFileError) -> PersistedState? {
        let contents: [UInt8]?
        do throws(FileOperationError) {
            contents = try operations.readFile(path)
        } catch {
            throw StateFileError(.io, path: path, "could not read: \(error)", errno: error.errno)
        }
        guard let bytes = contents else { return nil }
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            throw StateFileError(.empty, path: path, "the file is empty (a save that never wrote its data?)")
        }
        let value: JSONValue
        do throws(JSONParseError) {
            value = try JSONParser().parse(bytes)
        } catch {
            if error.code == .unexpectedEnd {
                throw StateFileError(
                    .truncated, path: path,
                    "the file ends at line \(error.line), column \(error.column) before its JSON is complete (truncated?)",
                    line: error.line, column: error.column)
            }
            throw StateFileError(
                .malformed, path: path, "line \(error.line), column \(error.column): \(error.message)",
                line: error.line, column: error.column)
        }
        do throws(StateFileError) {
            return try PersistedState(jsonValue: value)
        } catch {
            var located = error
            located.path = path
            throw located
        }
    }
}

/// The lock behind ``StateFile``'s saves, shared by copies of one `StateFile`.
private final class SaveLock: Sendable {
    let lock = Locked(())
}
