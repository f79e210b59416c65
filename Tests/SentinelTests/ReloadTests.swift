import Foundation
import Resilience
import Synchronization
import Testing

@testable import Sentinel

#if canImport(Glibc)
import Glibc
#endif

/// The script-folder scanner and watcher behind hot reload: real folders
/// under /tmp, one per test, removed afterwards. Outcomes are decided by
/// `scan()` and by triggers pushed through the watcher's seam; only the
/// tests of the real inotify, polling and SIGHUP paths wait for a batch, with
/// a 10 s bound that ends as soon as it arrives.
@Suite struct ReloadTests {
    // MARK: - Scanner: what real tools do to files

    @Test func firstScanAddsEveryScriptAndANewFileIsAdded() throws {
        let folder = try ReloadTestFolder(["retry.lua": "return {}", "guard.lua": "return { name = 'g' }"])
        let scanner = ScriptFolderScanner(folders: [folder.path])
        let first = scanner.scan()
        #expect(
            first == [
                .added(ScriptFile(path: folder.path + "/guard.lua", name: "guard", contents: Array("return { name = 'g' }".utf8))),
                .added(ScriptFile(path: folder.path + "/retry.lua", name: "retry", contents: Array("return {}".utf8))),
            ])
        try folder.write("bulkhead.lua", "return { interval = '5s' }")
        #expect(
            scanner.scan() == [
                .added(
                    ScriptFile(
                        path: folder.path + "/bulkhead.lua", name: "bulkhead", contents: Array("return { interval = '5s' }".utf8)))
            ])
    }

    @Test func noChangeGivesAnEmptyBatch() throws {
        let folder = try ReloadTestFolder(["a.lua": "return {}"])
        let scanner = ScriptFolderScanner(folders: [folder.path])
        _ = scanner.scan()
        #expect(scanner.scan().isEmpty)
        // Touching a file (new time, same bytes) is no change either.
        try folder.setModificationTime("a.lua", seconds: 1_000_000_000)
        #expect(scanner.scan().isEmpty)
    }

    @Test func inPlaceEditIsAModification() throws {
        let folder = try ReloadTestFolder(["a.lua": "return { interval = '5s' }"])
        let scanner = ScriptFolderScanner(folders: [folder.path])
        _ = scanner.scan()
        try folder.write("a.lua", "return { interval = '9s' }")
        let changes = scanner.scan()
        #expect(changes == [.modified(folder.file("a.lua", "return { interval = '9s' }"))])
    }

    @Test func halfWrittenFileIsDeliveredThenItsCompletion() throws {
        // An in-place write seen half-way: the scanner hands over what is
        // there (the engine's validation rejects it), and the rest of the
        // write is one more modification.
        let folder = try ReloadTestFolder(["a.lua": "return {}"])
        let scanner = ScriptFolderScanner(folders: [folder.path])
        _ = scanner.scan()
        try folder.write("a.lua", "return { inter")
        #expect(scanner.scan() == [.modified(folder.file("a.lua", "return { inter"))])
        try folder.write("a.lua", "return { interval = '1s' }")
        #expect(scanner.scan() == [.modified(folder.file("a.lua", "return { interval = '1s' }"))])
    }

    @Test func writeTemporaryThenRenameOverIsOneModification() throws {
        let folder = try ReloadTestFolder(["x.lua": "return { v = 1 }"])
        let scanner = ScriptFolderScanner(folders: [folder.path])
        _ = scanner.scan()
        try folder.write("x.lua.tmp", "return { v = 2 }")
        #expect(scanner.scan().isEmpty, "the temporary file is not a script")
        try folder.rename("x.lua.tmp", to: "x.lua")
        #expect(scanner.scan() == [.modified(folder.file("x.lua", "return { v = 2 }"))])
    }

    @Test func deleteThenCreateIsAModification() throws {
        let folder = try ReloadTestFolder(["x.lua": "return { v = 1 }"])
        let scanner = ScriptFolderScanner(folders: [folder.path])
        _ = scanner.scan()
        try folder.remove("x.lua")
        try folder.write("x.lua", "return { v = 2 }")
        #expect(scanner.scan() == [.modified(folder.file("x.lua", "return { v = 2 }"))])
        // Recreated with the same bytes: nothing to reload.
        try folder.remove("x.lua")
        try folder.write("x.lua", "return { v = 2 }")
        #expect(scanner.scan().isEmpty)
    }

    @Test func editThatKeepsTheModificationTimeIsDetected() throws {
        // What `cp -p` and `rsync -t` do: new bytes, same size, old time.
        let folder = try ReloadTestFolder(["x.lua": "return { v = 1 }"])
        try folder.setModificationTime("x.lua", seconds: 1_600_000_000)
        let scanner = ScriptFolderScanner(folders: [folder.path])
        _ = scanner.scan()
        let before = try folder.status("x.lua")
        try folder.write("x.lua", "return { v = 7 }")
        try folder.setModificationTime("x.lua", seconds: 1_600_000_000)
        let after = try folder.status("x.lua")
        #expect(before.st_mtim.tv_sec == after.st_mtim.tv_sec && before.st_size == after.st_size)
        #expect(scanner.scan() == [.modified(folder.file("x.lua", "return { v = 7 }"))])
    }

    @Test func deletionIsARemoval() throws {
        let folder = try ReloadTestFolder(["a.lua": "return {}", "b.lua": "return {}"])
        let scanner = ScriptFolderScanner(folders: [folder.path])
        _ = scanner.scan()
        try folder.remove("a.lua")
        #expect(scanner.scan() == [.removed(path: folder.path + "/a.lua", name: "a")])
        #expect(scanner.knownDigests.keys.sorted() == [folder.path + "/b.lua"])
    }

    @Test func renamingAScriptRemovesTheOldNameAndAddsTheNew() throws {
        let folder = try ReloadTestFolder(["a.lua": "return {}"])
        let scanner = ScriptFolderScanner(folders: [folder.path])
        _ = scanner.scan()
        try folder.rename("a.lua", to: "b.lua")
        #expect(
            scanner.scan() == [
                .removed(path: folder.path + "/a.lua", name: "a"), .added(folder.file("b.lua", "return {}")),
            ])
    }

    @Test func editorBackupSwapLockAndTemporaryFilesAreIgnored() throws {
        let folder = try ReloadTestFolder(["x.lua": "return {}"])
        let scanner = ScriptFolderScanner(folders: [folder.path])
        _ = scanner.scan()
        for name in [
            "x.lua~", ".#x.lua", ".x.lua.swp", ".x.lua.swx", "4913", "x.lua.tmp", "#x.lua#", ".hidden.lua",
            "notes.txt", "x.LUA", ".lua",
        ] {
            try folder.write(name, "garbage")
        }
        try folder.makeFolder("sub.d")
        try folder.write("sub.d/inner.lua", "return {}")
        #expect(scanner.scan().isEmpty)
    }

    @Test(
        arguments: [
            ("retry.lua", "retry"), ("a.b.lua", "a.b"), ("x.lua.lua", "x.lua"), ("x.lua~", nil), (".#x.lua", nil),
            (".x.lua.swp", nil), ("4913", nil), ("x.lua.tmp", nil), ("..data", nil), ("..2024_01_01", nil), (".lua", nil),
            ("x.Lua", nil),
        ] as [(String, String?)])
    func scriptNamesComeOnlyFromVisibleLuaFiles(entry: String, name: String?) {
        #expect(ScriptFileName.scriptName(forEntry: entry) == name)
    }

    @Test func eventsAboutConfigMapEntriesAndScriptsCountOthersDoNot() {
        #expect(ScriptFileName.mayConcernScripts(entry: "..data"))
        #expect(ScriptFileName.mayConcernScripts(entry: "..data_tmp"))
        #expect(ScriptFileName.mayConcernScripts(entry: "retry.lua"))
        #expect(!ScriptFileName.mayConcernScripts(entry: ".retry.lua.swp"))
        #expect(!ScriptFileName.mayConcernScripts(entry: "retry.lua.tmp"))
        #expect(!ScriptFileName.mayConcernScripts(entry: "4913"))
    }

    @Test func configMapDataSwapIsDetectedAndKeepsThePath() throws {
        // The layout the kubelet writes: files in a timestamped folder,
        // `..data` pointing at it, and `x.lua -> ..data/x.lua`.
        let folder = try ReloadTestFolder([:])
        try folder.makeFolder("..2024_01_01_00_00_00.1")
        try folder.write("..2024_01_01_00_00_00.1/x.lua", "return { v = 1 }")
        try folder.symlink("..data", to: "..2024_01_01_00_00_00.1")
        try folder.symlink("x.lua", to: "..data/x.lua")
        let scanner = ScriptFolderScanner(folders: [folder.path])
        #expect(scanner.scan() == [.added(folder.file("x.lua", "return { v = 1 }"))])

        // An update: a new timestamped folder, `..data_tmp` pointing at it,
        // renamed over `..data` (atomic), and the old folder removed.
        try folder.makeFolder("..2024_01_02_00_00_00.2")
        try folder.write("..2024_01_02_00_00_00.2/x.lua", "return { v = 2 }")
        try folder.symlink("..data_tmp", to: "..2024_01_02_00_00_00.2")
        try folder.rename("..data_tmp", to: "..data")
        try folder.remove("..2024_01_01_00_00_00.1")
        #expect(scanner.scan() == [.modified(folder.file("x.lua", "return { v = 2 }"))])
    }

    @Test func danglingSymbolicLinkIsUnreadable() throws {
        let folder = try ReloadTestFolder([:])
        try folder.symlink("x.lua", to: "..data/x.lua")
        let scanner = ScriptFolderScanner(folders: [folder.path])
        #expect(scanner.scan() == [.unreadable(path: folder.path + "/x.lua", reason: "a symbolic link to a missing file")])
    }

    @Test(.timeLimit(.minutes(1))) func fifoNamedLikeAScriptDoesNotBlockAndIsUnreadable() throws {
        let folder = try ReloadTestFolder(["a.lua": "return {}"])
        try folder.makeFIFO("x.lua")
        let scanner = ScriptFolderScanner(folders: [folder.path])
        #expect(
            scanner.scan() == [
                .added(folder.file("a.lua", "return {}")),
                .unreadable(path: folder.path + "/x.lua", reason: "not a regular file (a FIFO)"),
            ])
        #expect(scanner.scan().isEmpty, "an unreadable file is reported once")
        // The second line of defence, for a FIFO swapped in after the stat:
        // opened with O_NONBLOCK (which returns at once without a writer) and
        // refused on its descriptor.
        let reader = ScriptFileReader(maximumFileSize: 1 << 20)
        #expect(reader.readOpened(path: folder.path + "/x.lua") == .unreadable(reason: "not a regular file (a FIFO)"))
    }

    @Test func folderNamedLikeAScriptIsUnreadable() throws {
        let folder = try ReloadTestFolder([:])
        try folder.makeFolder("odd.lua")
        let scanner = ScriptFolderScanner(folders: [folder.path])
        #expect(scanner.scan() == [.unreadable(path: folder.path + "/odd.lua", reason: "not a regular file (a folder)")])
    }

    @Test func permissionDeniedIsReportedOnceAndTheScriptComesBackWhenReadable() throws {
        // As root (these tests run as root here) every file is readable
        // whatever its mode, so `open` is made to fail exactly as it does
        // for another user; the chmod test below covers the real call.
        let folder = try ReloadTestFolder(["a.lua": "return { v = 1 }"])
        let denied = Mutex<Set<String>>([])
        let reader = ScriptFileReader(maximumFileSize: 1 << 20) { path, flags in
            if denied.withLock({ $0.contains(path) }) { return .failure(.init(code: EACCES)) }
            return ScriptFileReader.openWithoutMode(path, flags)
        }
        let scanner = ScriptFolderScanner(folders: [folder.path], reader: reader)
        _ = scanner.scan()
        denied.withLock { _ = $0.insert(folder.path + "/a.lua") }
        #expect(scanner.scan() == [.unreadable(path: folder.path + "/a.lua", reason: "permission denied")])
        #expect(scanner.scan().isEmpty)
        #expect(
            scanner.knownDigests[folder.path + "/a.lua"] == ScriptDigest(of: Array("return { v = 1 }".utf8)),
            "the last good version is still the known one")
        denied.withLock { $0.removeAll() }
        #expect(
            scanner.scan() == [.modified(folder.file("a.lua", "return { v = 1 }"))],
            "readable again: reported so the engine can clear the error")
    }

    @Test(.enabled(if: geteuid() != 0, "root reads files whatever their mode"))
    func fileWithModeZeroIsUnreadableForAnOrdinaryUser() throws {
        let folder = try ReloadTestFolder(["a.lua": "return {}"])
        try folder.chmod("a.lua", 0)
        let scanner = ScriptFolderScanner(folders: [folder.path])
        #expect(scanner.scan() == [.unreadable(path: folder.path + "/a.lua", reason: "permission denied")])
    }

    @Test(.enabled(if: geteuid() != 0, "root lists folders whatever their mode"))
    func folderWithModeZeroKeepsItsScriptsForAnOrdinaryUser() throws {
        let folder = try ReloadTestFolder(["a.lua": "return {}"])
        let scanner = ScriptFolderScanner(folders: [folder.path])
        _ = scanner.scan()
        try folder.chmod(".", 0)
        defer { try? folder.chmod(".", 0o700) }
        #expect(scanner.scan() == [.unreadable(path: folder.path, reason: "permission denied")])
        #expect(scanner.knownDigests.count == 1)
    }

    @Test func fiftyMegabyteFileIsRefusedWithoutBeingRead() throws {
        let folder = try ReloadTestFolder(["small.lua": "return {}"])
        try folder.makeSparseFile("huge.lua", size: 50 * 1024 * 1024)
        let scanner = ScriptFolderScanner(folders: [folder.path])
        #expect(
            scanner.scan() == [
                .unreadable(path: folder.path + "/huge.lua", reason: "larger than the 1 MiB limit (52428800 bytes)"),
                .added(folder.file("small.lua", "return {}")),
            ])
        #expect(scanner.statistics.bytesRead == 9, "only the small file was read")
        #expect(scanner.statistics.filesRead == 1)
    }

    @Test func sizeCapIsInclusive() throws {
        let folder = try ReloadTestFolder([
            "exact.lua": String(repeating: "-", count: 1000), "over.lua": String(repeating: "-", count: 1001),
        ])
        let scanner = ScriptFolderScanner(folders: [folder.path], maximumFileSize: 1000)
        let changes = scanner.scan()
        #expect(changes.count == 2)
        #expect(changes.first == .added(folder.file("exact.lua", String(repeating: "-", count: 1000))))
        #expect(changes.last == .unreadable(path: folder.path + "/over.lua", reason: "larger than the 1000 bytes limit (1001 bytes)"))
    }

    @Test func twoHundredFilesInOneFolder() throws {
        var files: [String: String] = [:]
        for index in 0..<200 { files[String(format: "rule%03d.lua", index)] = "return { n = \(index) }" }
        let folder = try ReloadTestFolder(files)
        let scanner = ScriptFolderScanner(folders: [folder.path])
        let first = scanner.scan()
        #expect(first.count == 200)
        #expect(first.map(\.path) == files.keys.sorted().map { folder.path + "/" + $0 }, "sorted by path")
        try folder.write("rule117.lua", "return { n = -1 }")
        #expect(scanner.scan() == [.modified(folder.file("rule117.lua", "return { n = -1 }"))])
        #expect(scanner.statistics.filesRead == 400)
    }

    @Test func folderRemovedAndRecreatedIsReportedOnceAndFoundAgain() throws {
        let folder = try ReloadTestFolder(["a.lua": "return {}"])
        let scanner = ScriptFolderScanner(folders: [folder.path])
        _ = scanner.scan()
        try folder.removeEverything()
        #expect(
            scanner.scan() == [
                .unreadable(path: folder.path, reason: "folder does not exist"),
                .removed(path: folder.path + "/a.lua", name: "a"),
            ])
        #expect(scanner.scan().isEmpty, "a missing folder is reported once")
        #expect(scanner.folderErrors == [folder.path: "folder does not exist"])
        try folder.recreate()
        try folder.write("a.lua", "return { back = true }")
        #expect(scanner.scan() == [.added(folder.file("a.lua", "return { back = true }"))])
        #expect(scanner.folderErrors.isEmpty)
    }

    @Test func missingFolderIsNotAnErrorForTheOthers() throws {
        let folder = try ReloadTestFolder(["a.lua": "return {}"])
        let scanner = ScriptFolderScanner(folders: [folder.path + "/missing", folder.path + "/"])
        #expect(scanner.folders == [folder.path + "/missing", folder.path], "trailing slash dropped")
        #expect(
            scanner.scan() == [
                .unreadable(path: folder.path + "/missing", reason: "folder does not exist"),
                .added(folder.file("a.lua", "return {}")),
            ])
    }

    @Test func sameScriptNameInTwoFoldersIsReportedTwice() throws {
        let first = try ReloadTestFolder(["retry.lua": "return { v = 1 }"])
        let second = try ReloadTestFolder(["retry.lua": "return { v = 2 }"])
        let scanner = ScriptFolderScanner(folders: [first.path, second.path, first.path])
        #expect(
            scanner.scan() == [
                .added(first.file("retry.lua", "return { v = 1 }")), .added(second.file("retry.lua", "return { v = 2 }")),
            ])
    }

    @Test func nonUTF8FileIsDeliveredAsBytes() throws {
        let folder = try ReloadTestFolder([:])
        let bytes: [UInt8] = [0x72, 0x65, 0xff, 0xfe, 0x00, 0xc3, 0x28]
        try folder.write("latin.lua", bytes: bytes)
        let scanner = ScriptFolderScanner(folders: [folder.path])
        #expect(scanner.scan() == [.added(ScriptFile(path: folder.path + "/latin.lua", name: "latin", contents: bytes))])
    }

    @Test func resetMakesTheNextScanReportEverythingAgain() throws {
        let folder = try ReloadTestFolder(["a.lua": "return {}"])
        let scanner = ScriptFolderScanner(folders: [folder.path])
        _ = scanner.scan()
        scanner.reset()
        #expect(scanner.scan() == [.added(folder.file("a.lua", "return {}"))])
    }

    @Test func concurrentScansReportEachChangeOnce() async throws {
        var files: [String: String] = [:]
        for index in 0..<50 { files["s\(index).lua"] = "return { n = \(index) }" }
        let folder = try ReloadTestFolder(files)
        let scanner = ScriptFolderScanner(folders: [folder.path])
        let results = await withTaskGroup(of: [ScriptFolderChange].self) { group in
            for _ in 0..<8 { group.addTask { scanner.scan() } }
            return await group.reduce(into: []) { $0 += $1 }
        }
        #expect(results.count == 50, "every file added exactly once, whoever won each race")
        #expect(Set(results.map(\.path)).count == 50)
    }
}
