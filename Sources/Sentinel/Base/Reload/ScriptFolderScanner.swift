import Resilience

/// Lists the `*.lua` files of one or more folders, reads them safely, and
/// reports what changed since the last scan, judged by content.
///
/// Each ``scan()`` reads every script file again and compares each file's
/// ``ScriptDigest`` and size with the last scan's: a modification time is
/// never trusted, because `cp -p` and `rsync -t` copy new bytes under the
/// old time. Hashing a folder of rules costs microseconds to a few
/// milliseconds; a missed edit would cost a wrong rule in production.
///
/// What is read, and what is refused:
/// - only entries named `NAME.lua` that do not start with `.` (editor
///   backups, swap and lock files, temporary files and a ConfigMap's
///   `..data` entries are left out);
/// - symbolic links are followed, so a Kubernetes ConfigMap's
///   `x.lua -> ..data/x.lua` is read through its link and keeps its path;
/// - anything that is not a regular file (a FIFO, a socket, a device, a
///   folder) is reported ``ScriptFolderChange/unreadable(path:reason:)``
///   without being opened, and a file is opened with `O_NONBLOCK` and checked
///   again on its descriptor, so a FIFO never blocks a scan;
/// - a file larger than `maximumFileSize` is reported unreadable without
///   being read.
///
/// A missing folder is not an error by itself (it may be recreated): it is
/// reported once as `.unreadable(path: folder, ...)` and in
/// ``folderErrors``, its scripts are reported removed, and they are found
/// again once the folder is back. A folder that exists but cannot be listed
/// (permission denied) is reported the same way but its scripts stay as they
/// were: a transient problem must not unload rules.
///
/// Concurrency follows swift-configuration's `ReloadingFileProvider`: the
/// known state is read under a lock, the files are read outside it, and the
/// result is committed under the lock only if no other scan committed
/// meanwhile (otherwise the scan reads again). Whoever calls `scan()` gets
/// the changes, so call it from one place: ``ScriptFolderWatcher`` does while
/// it runs.
///
/// ```swift
/// let scanner = ScriptFolderScanner(folders: ["policies"])
/// for change in scanner.scan() {
///     if case .added(let file) = change { print(file.path, file.digest) }
/// }
/// ```
public final class ScriptFolderScanner: Sendable {
    /// The folders scanned, in order, as given (duplicates and trailing
    /// slashes removed). Display paths start with these.
    public let folders: [String]

    /// The largest script file, in bytes, that is read; larger ones are
    /// reported unreadable.
    public let maximumFileSize: Int

    private let reader: ScriptFileReader
    private let storage: Locked<Storage>

    /// How many times a scan that lost the race to another scan reads again
    /// before it leaves the reporting to the scans that won.
    private static let attempts = 3

    /// What the last committed scan saw of one path.
    struct KnownFile: Sendable, Hashable {
        var folder: String
        var name: String
        /// The digest and size of the last bytes read, if any were ever read.
        var digest: ScriptDigest?
        var size: Int
        /// Set while the file is unreadable, to report each reason once.
        var unreadableReason: String?
    }

    struct Storage: Sendable {
        var files: [String: KnownFile] = [:]
        var folderErrors: [String: String] = [:]
        var generation: UInt64 = 0
        var statistics = Statistics()
    }

    /// Makes a scanner of `folders`. Nothing is read until ``scan()``.
    ///
    /// - Parameters:
    ///   - folders: the folders to scan, as the display paths should start
    ///     (relative paths resolve against the working directory at each scan).
    ///   - maximumFileSize: the largest file read, in bytes (default 1 MiB).
    public convenience init(folders: [String], maximumFileSize: Int = 1 << 20) {
        self.init(folders: folders, reader: ScriptFileReader(maximumFileSize: maximumFileSize))
    }

    /// Makes a scanner with a custom reader (tests make `open` fail).
    init(folders: [String], reader: ScriptFileReader) {
        var seen = Set<String>()
        self.folders = folders.map(ScriptFileName.normalizedFolder).filter { seen.insert($0).inserted }
        self.maximumFileSize = reader.maximumFileSize
        self.reader = reader
        self.storage = Locked(Storage())
    }

    // MARK: - Scanning

    /// Reads every script file and returns what changed since the last scan:
    /// empty when nothing did.
    ///
    /// The first scan reports every script as ``ScriptFolderChange/added(_:)``.
    /// Changes come ordered by folder, then by path.
    public func scan() -> [ScriptFolderChange] {
        for _ in 0..<Self.attempts {
            let generation = storage.withLock { $0.generation }
            let observation = observe()
            let changes = storage.withLock { storage -> [ScriptFolderChange]? in
                storage.statistics.filesRead += observation.filesRead
                storage.statistics.bytesRead += observation.bytesRead
                guard storage.generation == generation else {
                    storage.statistics.lostRaces += 1
                    return nil
                }
                let changes = Self.apply(observation, to: &storage)
                storage.generation &+= 1
                storage.statistics.scans += 1
                return changes
            }
            if let changes { return changes }
        }
        // Other scans kept committing: they reported what changed.
        return []
    }

    /// The folders that could not be listed at the last scan, with the
    /// reason (for example `folder does not exist`).
    public var folderErrors: [String: String] {
        storage.withLock { $0.folderErrors }
    }

    /// What the scanner has done since it was made.
    public var statistics: Statistics {
        storage.withLock { $0.statistics }
    }

    /// The display paths and digests of the files the last scan read (files
    /// that were never readable are left out).
    public var knownDigests: [String: ScriptDigest] {
        storage.withLock { storage in storage.files.compactMapValues(\.digest) }
    }

    /// Forgets everything: the next scan reports every script as added and
    /// every folder error again (for example after the engine restarted its
    /// scripts from scratch).
    public func reset() {
        storage.withLock { storage in
            storage.files = [:]
            storage.folderErrors = [:]
            storage.generation &+= 1
        }
    }

    // MARK: - Reading (outside the lock)

    struct Observation: Sendable {
        enum Folder: Sendable {
            case listed([(path: String, name: String, result: ScriptFileReadResult)])
            case failed(ScriptFileReader.FolderFailure)
        }
        var folders: [(folder: String, content: Folder)] = []
        var filesRead = 0
        var bytesRead = 0
    }

    private func observe() -> Observation {
        var observation = Observation()
        for folder in folders {
            switch ScriptFileReader.listFolder(folder) {
            case .failure(let failure):
                observation.folders.append((folder, .failed(failure)))
            case .success(let entries):
                var files: [(path: String, name: String, result: ScriptFileReadResult)] = []
                for entry in entries {
                    guard let name = ScriptFileName.scriptName(forEntry: entry) else { continue }
                    let path = ScriptFileName.displayPath(folder: folder, entry: entry)
                    let result = reader.read(path: path)
                    if case .contents(let bytes) = result {
                        observation.filesRead += 1
                        observation.bytesRead += bytes.count
                    }
                    files.append((path, name, result))
                }
                observation.folders.append((folder, .listed(files)))
            }
        }
        return observation
    }

    // MARK: - Committing (under the lock)

    /// Diffs `observation` against the known state, updates the state, and
    /// returns the changes.
    private static func apply(_ observation: Observation, to storage: inout Storage) -> [ScriptFolderChange] {
        var changes: [ScriptFolderChange] = []
        for (folder, content) in observation.folders {
            var folderChanges: [ScriptFolderChange] = []
            var seen = Set<String>()
            switch content {
            case .failed(let failure):
                if storage.folderErrors[folder] != failure.reason {
                    changes.append(.unreadable(path: folder, reason: failure.reason))
                }
                storage.folderErrors[folder] = failure.reason
                if !failure.isMissing {
                    // The scripts may well still be there: keep them as they were.
                    continue
                }
            case .listed(let files):
                storage.folderErrors[folder] = nil
                for (path, name, result) in files {
                    let known = storage.files[path]
                    switch result {
                    case .missing:
                        continue
                    case .contents(let bytes):
                        let file = ScriptFile(path: path, name: name, contents: bytes)
                        seen.insert(path)
                        storage.files[path] = KnownFile(
                            folder: folder, name: name, digest: file.digest, size: bytes.count, unreadableReason: nil)
                        guard let known, known.digest != nil else {
                            folderChanges.append(.added(file))
                            continue
                        }
                        if known.digest != file.digest || known.size != bytes.count || known.unreadableReason != nil {
                            folderChanges.append(.modified(file))
                        }
                    case .unreadable(let reason):
                        seen.insert(path)
                        var entry = known ?? KnownFile(folder: folder, name: name, digest: nil, size: 0)
                        if entry.unreadableReason != reason {
                            folderChanges.append(.unreadable(path: path, reason: reason))
                        }
                        entry.unreadableReason = reason
                        storage.files[path] = entry
                    }
                }
            }
            let gone = storage.files.filter { $0.value.folder == folder && !seen.contains($0.key) }
            for (path, known) in gone {
                folderChanges.append(.removed(path: path, name: known.name))
                storage.files[path] = nil
            }
            folderChanges.sort { $0.path < $1.path }
            changes.append(contentsOf: folderChanges)
        }
        return changes
    }
}
