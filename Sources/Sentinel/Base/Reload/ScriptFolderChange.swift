/// One difference between two scans of the script folders.
///
/// A batch of changes is ordered by folder (in the order the folders were
/// given) and then by file name, so the engine sees the same order for the
/// same folders every time.
///
/// How the engine should read each case:
/// - ``added(_:)``: a script it has not seen (or that was unreadable until
///   now and was never read): compile, validate, load.
/// - ``modified(_:)``: new bytes for a script it has seen; compile and
///   validate the new version, swap it in only if it is good. A file that was
///   ``unreadable(path:reason:)`` and can be read again is reported as
///   modified even if its bytes equal the last version read, so that the
///   engine can clear the error it showed.
/// - ``removed(path:name:)``: the file is gone (deleted, renamed away, or its
///   folder removed): unload it and audit the unload.
/// - ``unreadable(path:reason:)``: the file (or a folder) exists but cannot
///   be used: keep the last good version running and report the reason. It is
///   reported once per reason, not on every scan.
public enum ScriptFolderChange: Sendable, Hashable {
    /// A script file that was not known before.
    case added(ScriptFile)
    /// A known script file whose bytes changed.
    case modified(ScriptFile)
    /// A script file that was known (or reported unreadable) and no longer exists.
    case removed(path: String, name: String)
    /// A script file, or a whole folder, that exists but cannot be read.
    ///
    /// `path` is a file's display path or, for a folder, the folder as it was
    /// given. `reason` says why in words an operator can act on, for example
    /// `permission denied`, `not a regular file (a FIFO)` or
    /// `larger than the 1 MiB limit (52428800 bytes)`.
    case unreadable(path: String, reason: String)

    /// The display path the change is about.
    public var path: String {
        switch self {
        case .added(let file), .modified(let file): file.path
        case .removed(let path, _), .unreadable(let path, _): path
        }
    }
}
