import Foundation
import Resilience
import Synchronization
import Testing

@testable import Sentinel

#if canImport(Glibc)
import Glibc
#endif

// MARK: - Helpers

/// A folder under /tmp, made for one test and removed with everything in it
/// when the test's value goes away.
final class ReloadTestFolder {
    let path: String

    init(_ files: [String: String]) throws {
        var template = Array("/tmp/sentinel-reload-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw ReloadTestError("mkdtemp failed: errno \(errno)") }
        path = String(cString: made)
        for (name, text) in files { try write(name, text) }
    }

    deinit {
        try? chmod(".", 0o700)
        try? FileManager.default.removeItem(atPath: path)
    }

    func file(_ name: String, _ text: String) -> ScriptFile {
        ScriptFile(path: path + "/" + name, name: String(name.dropLast(4)), contents: Array(text.utf8))
    }

    func write(_ name: String, _ text: String) throws { try write(name, bytes: Array(text.utf8)) }

    /// Writes in place (truncate and write, like an editor that saves over
    /// the file), not through a temporary file.
    func write(_ name: String, bytes: [UInt8]) throws {
        let descriptor = open(path + "/" + name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw ReloadTestError("open \(name): errno \(errno)") }
        defer { close(descriptor) }
        let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw ReloadTestError("write \(name): errno \(errno)") }
    }

    func rename(_ name: String, to newName: String) throws {
        guard Glibc.rename(path + "/" + name, path + "/" + newName) == 0 else {
            throw ReloadTestError("rename \(name): errno \(errno)")
        }
    }

    func remove(_ name: String) throws { try FileManager.default.removeItem(atPath: path + "/" + name) }

    func removeEverything() throws { try FileManager.default.removeItem(atPath: path) }

    func recreate() throws {
        guard mkdir(path, 0o755) == 0 else { throw ReloadTestError("mkdir: errno \(errno)") }
    }

    func makeFolder(_ name: String) throws {
        guard mkdir(path + "/" + name, 0o755) == 0 else { throw ReloadTestError("mkdir \(name): errno \(errno)") }
    }

    func symlink(_ name: String, to target: String) throws {
        guard Glibc.symlink(target, path + "/" + name) == 0 else { throw ReloadTestError("symlink \(name): errno \(errno)") }
    }

    func makeFIFO(_ name: String) throws {
        guard mkfifo(path + "/" + name, 0o644) == 0 else { throw ReloadTestError("mkfifo \(name): errno \(errno)") }
    }

    /// A file of `size` bytes that takes no disk space (a hole).
    func makeSparseFile(_ name: String, size: Int) throws {
        let descriptor = open(path + "/" + name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw ReloadTestError("open \(name): errno \(errno)") }
        defer { close(descriptor) }
        guard ftruncate(descriptor, off_t(size)) == 0 else { throw ReloadTestError("ftruncate: errno \(errno)") }
    }

    func chmod(_ name: String, _ mode: mode_t) throws {
        guard Glibc.chmod(name == "." ? path : path + "/" + name, mode) == 0 else {
            throw ReloadTestError("chmod \(name): errno \(errno)")
        }
    }

    func status(_ name: String) throws -> stat {
        var status = stat()
        guard stat(path + "/" + name, &status) == 0 else { throw ReloadTestError("stat \(name): errno \(errno)") }
        return status
    }

    /// Sets the access and modification times, as `cp -p` and `touch -d` do.
    func setModificationTime(_ name: String, seconds: Int) throws {
        var times = [timespec(tv_sec: seconds, tv_nsec: 0), timespec(tv_sec: seconds, tv_nsec: 0)]
        guard utimensat(AT_FDCWD, path + "/" + name, &times, 0) == 0 else {
            throw ReloadTestError("utimensat \(name): errno \(errno)")
        }
    }
}

struct ReloadTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Keeps the batches a watcher delivered.
final class ReloadBatchRecorder: Sendable {
    private let storage = Mutex<[[ScriptFolderChange]]>([])

    var batches: [[ScriptFolderChange]] { storage.withLock { $0 } }

    func append(_ batch: [ScriptFolderChange]) { storage.withLock { $0.append(batch) } }

    /// Waits until `count` batches arrived: true as soon as they did, false
    /// after 10 s.
    func waitForBatches(_ count: Int) async -> Bool {
        await reloadEventually { self.batches.count >= count }
    }
}

/// Checks `condition` every few milliseconds until it holds (true) or 60 s
/// pass (false). The bound only keeps a broken build from hanging; the
/// outcome is the condition's. It is generous because the whole suite runs
/// in parallel: on two cores, CPU-bound suites beside this one can hold the
/// watcher's tasks for many seconds (10 s was once not enough).
func reloadEventually(_ condition: () -> Bool) async -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: .seconds(60))
    while !condition() {
        if clock.now >= deadline { return false }
        try? await Task.sleep(for: .milliseconds(2))
    }
    return true
}

/// Whether a handler (not the default action, which ends the process) is
/// installed for SIGHUP.
func hangupHasAHandler() -> Bool {
    var action = sigaction()
    sigaction(SIGHUP, nil, &action)
    return action.__sigaction_handler.sa_handler != nil
}
