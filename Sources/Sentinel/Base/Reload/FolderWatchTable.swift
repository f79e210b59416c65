/// Which folders inotify watches (and under which watch descriptor) and
/// which are polled, and why.
///
/// A pure value kept by the watcher's loop; the inotify calls happen there.
/// One descriptor can serve several folders: inotify returns the same
/// descriptor for two paths of one directory (a folder given once directly
/// and once through a symbolic link).
struct FolderWatchTable: Sendable {
    /// How one folder is followed.
    enum State: Sendable, Hashable {
        /// inotify watches it under this descriptor.
        case watched(descriptor: Int32)
        /// It is polled, for this reason (missing, watch limit reached, ...).
        case polling(reason: String)
    }

    let folders: [String]
    private(set) var states: [State]
    private var foldersByDescriptor: [Int32: [Int]] = [:]

    /// Every folder starts out polled until a watch is added for it.
    init(folders: [String], reason: String) {
        self.folders = folders
        self.states = Array(repeating: .polling(reason: reason), count: folders.count)
    }

    /// Records that folder `index` is now watched under `descriptor`.
    mutating func watch(folderAt index: Int, descriptor: Int32) {
        states[index] = .watched(descriptor: descriptor)
        foldersByDescriptor[descriptor, default: []].append(index)
    }

    /// Records that a folder is polled instead (inotify could not watch it).
    mutating func poll(folderAt index: Int, reason: String) {
        if case .watched(let descriptor) = states[index] {
            foldersByDescriptor[descriptor]?.removeAll { $0 == index }
            if foldersByDescriptor[descriptor]?.isEmpty == true { foldersByDescriptor[descriptor] = nil }
        }
        states[index] = .polling(reason: reason)
    }

    /// The folders watched under `descriptor` (none for a stale descriptor).
    func folders(watchedBy descriptor: Int32) -> [Int] {
        foldersByDescriptor[descriptor] ?? []
    }

    /// Marks every folder of a watch the kernel dropped (folder deleted or
    /// moved, file system unmounted) as polled; returns them.
    mutating func lose(descriptor: Int32, reason: String) -> [Int] {
        let indexes = foldersByDescriptor.removeValue(forKey: descriptor) ?? []
        for index in indexes { states[index] = .polling(reason: reason) }
        return indexes
    }

    /// The folders being polled, by index.
    var pollingIndexes: [Int] {
        states.indices.filter { if case .polling = states[$0] { true } else { false } }
    }

    /// Whether any folder needs polling.
    var needsPolling: Bool { !pollingIndexes.isEmpty }

    /// The folders being polled, with the reason.
    var pollingReasons: [String: String] {
        var reasons: [String: String] = [:]
        for (index, state) in states.enumerated() {
            if case .polling(let reason) = state { reasons[folders[index]] = reason }
        }
        return reasons
    }
}
