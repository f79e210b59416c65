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
        #expect(first == [
            .added(ScriptFile(path: folder.path + "/guard.lua", name: "guard", contents: Array("return { name = 'g' }".utf8))),
            .added(ScriptFile(path: folder.path + "/retry.lua", name: "retry", contents: Array("return {}".utf8))),
        ])
        try folder.write("bulkhead.lua", "return { interval = '5s' }")
        #expect(scanner.scan() == [
            .added(ScriptFile(
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
        #expect(scanner.scan() == [
            .removed(path: folder.path + "/a.lua", name: "a"), .added(folder.file("b.lua", "return {}")),
        ])
    }

    @Test func editorBackupSwapLockAndTemporaryFilesAreIgnored() throws {
        let folder = try ReloadTestFolder(["x.lua": "return {}"])
        let scanner = ScriptFolderScanner(folders: [folder.path])
        _ = scanner.scan()
        for name in ["x.lua~", ".#x.lua", ".x.lua.swp", ".x.lua.swx", "4913", "x.lua.tmp", "#x.lua#", ".hidden.lua",
            "notes.txt", "x.LUA", ".lua"]
        {
            try folder.write(name, "garbage")
        }
        try folder.makeFolder("sub.d")
        try folder.write("sub.d/inner.lua", "return {}")
        #expect(scanner.scan().isEmpty)
    }

    @Test(arguments: [
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
        #expect(scanner.scan() == [
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
        #expect(scanner.knownDigests[folder.path + "/a.lua"] == ScriptDigest(of: Array("return { v = 1 }".utf8)),
            "the last good version is still the known one")
        denied.withLock { $0.removeAll() }
        #expect(scanner.scan() == [.modified(folder.file("a.lua", "return { v = 1 }"))],
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
        #expect(scanner.scan() == [
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
        #expect(scanner.scan() == [
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
        #expect(scanner.scan() == [
            .unreadable(path: folder.path + "/missing", reason: "folder does not exist"),
            .added(folder.file("a.lua", "return {}")),
        ])
    }

    @Test func sameScriptNameInTwoFoldersIsReportedTwice() throws {
        let first = try ReloadTestFolder(["retry.lua": "return { v = 1 }"])
        let second = try ReloadTestFolder(["retry.lua": "return { v = 2 }"])
        let scanner = ScriptFolderScanner(folders: [first.path, second.path, first.path])
        #expect(scanner.scan() == [
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

    // MARK: - Digest, events, schedule, watch table

    @Test func digestIsFNV1a64() {
        // Reference values of the 64-bit FNV-1a function.
        #expect(ScriptDigest(of: []).value == 0xcbf2_9ce4_8422_2325)
        #expect(ScriptDigest(of: Array("a".utf8)).value == 0xaf63_dc4c_8601_ec8c)
        #expect(ScriptDigest(of: Array("foobar".utf8)).value == 0x8594_4171_f739_67e8)
        #expect(ScriptDigest(value: 0xab).description == "00000000000000ab")
    }

    @Test func inotifyEventsAreParsedFromTheKernelLayout() {
        var bytes: [UInt8] = []
        func append(_ descriptor: Int32, _ mask: UInt32, _ name: String?) {
            var nameBytes = Array((name ?? "").utf8)
            if name != nil { nameBytes += Array(repeating: 0, count: 16 - nameBytes.count % 16) }
            withUnsafeBytes(of: descriptor.littleEndian) { bytes += $0 }
            withUnsafeBytes(of: mask.littleEndian) { bytes += $0 }
            withUnsafeBytes(of: UInt32(0)) { bytes += $0 }
            withUnsafeBytes(of: UInt32(nameBytes.count).littleEndian) { bytes += $0 }
            bytes += nameBytes
        }
        append(1, 0x100, "x.lua")
        append(1, 0x400, nil)
        append(-1, 0x4000, nil)
        let events = bytes.withUnsafeBytes { InotifyEvent.parse($0) }
        #expect(events == [
            InotifyEvent(descriptor: 1, mask: 0x100, name: "x.lua"), InotifyEvent(descriptor: 1, mask: 0x400, name: nil),
            InotifyEvent(descriptor: -1, mask: 0x4000, name: nil),
        ])
        let truncated = Array(bytes.prefix(20))
        #expect(truncated.withUnsafeBytes { InotifyEvent.parse($0) }.isEmpty)
    }

    @Test func burstOfEventsIsOneScanAfterTheLastPlusTheDebounce() {
        var schedule = ReloadSchedule(debounce: .milliseconds(50), maximumDelay: .seconds(1), pollInterval: .seconds(2))
        schedule.record(.fileSystemEvent, at: .milliseconds(0))
        schedule.record(.fileSystemEvent, at: .milliseconds(3))
        schedule.record(.fileSystemEvent, at: .milliseconds(10))
        #expect(schedule.nextWake == .milliseconds(60))
        #expect(schedule.takeDue(at: .milliseconds(59)) == nil)
        #expect(schedule.takeDue(at: .milliseconds(60)) == [.fileSystemEvent])
        #expect(schedule.takeDue(at: .milliseconds(61)) == nil)
        #expect(schedule.nextWake == nil)
    }

    @Test func endlessEventsAreScannedAtTheMaximumDelay() {
        var schedule = ReloadSchedule(debounce: .milliseconds(50), maximumDelay: .milliseconds(200), pollInterval: .seconds(2))
        for millisecond in stride(from: 0, through: 300, by: 20) {
            schedule.record(.fileSystemEvent, at: .milliseconds(millisecond))
            if millisecond == 180 { #expect(schedule.takeDue(at: .milliseconds(180)) == nil) }
            if millisecond == 200 {
                #expect(schedule.takeDue(at: .milliseconds(200)) == [.fileSystemEvent])
            }
        }
    }

    @Test func manualSignalAndPollTriggersScanAtOnceAndTakeDebouncedOnesAlong() {
        var schedule = ReloadSchedule(debounce: .milliseconds(50), maximumDelay: .seconds(1), pollInterval: .seconds(2))
        schedule.record(.overflow, at: .milliseconds(5))
        schedule.record(.manual, at: .milliseconds(7))
        #expect(schedule.takeDue(at: .milliseconds(7)) == [.overflow, .manual])
        schedule.record(.hangup, at: .milliseconds(9))
        #expect(schedule.takeDue(at: .milliseconds(9)) == [.hangup])
    }

    @Test func pollingTicksEveryIntervalOnlyWhileNeeded() {
        var schedule = ReloadSchedule(debounce: .milliseconds(50), maximumDelay: .seconds(1), pollInterval: .seconds(2))
        schedule.setPolling(true, at: .seconds(1))
        #expect(schedule.nextWake == .seconds(3))
        #expect(schedule.takeDue(at: .seconds(2)) == nil)
        #expect(schedule.takeDue(at: .seconds(3)) == [.poll])
        #expect(schedule.nextWake == .seconds(5))
        schedule.setPolling(false, at: .seconds(4))
        #expect(schedule.nextWake == nil)
        #expect(schedule.takeDue(at: .seconds(10)) == nil)
    }

    @Test func watchTableSharesADescriptorAndLosesEveryFolderOfIt() {
        var table = FolderWatchTable(folders: ["a", "a-link", "b"], reason: "not watched")
        table.watch(folderAt: 0, descriptor: 1)
        table.watch(folderAt: 1, descriptor: 1)
        table.watch(folderAt: 2, descriptor: 2)
        #expect(!table.needsPolling)
        #expect(table.folders(watchedBy: 1) == [0, 1])
        #expect(table.lose(descriptor: 1, reason: "folder removed") == [0, 1])
        #expect(table.pollingReasons == ["a": "folder removed", "a-link": "folder removed"])
        #expect(table.folders(watchedBy: 1).isEmpty, "a stale descriptor maps to nothing")
        table.watch(folderAt: 0, descriptor: 3)
        #expect(table.pollingIndexes == [1])
    }

    // MARK: - Watcher through the trigger seam

    @Test func pushedTriggersDeliverBatchesAndStopWhenTheSequenceEnds() async throws {
        let folder = try ReloadTestFolder(["a.lua": "return {}"])
        let watcher = ScriptFolderWatcher(folders: [folder.path], configuration: .init(debounce: .zero), logger: .silent)
        let recorder = ReloadBatchRecorder()
        let (triggers, push) = AsyncStream.makeStream(of: ReloadTrigger.self)
        async let run: Void = watcher.run(triggers: triggers) { recorder.append($0) }

        try #require(await recorder.waitForBatches(1))
        #expect(recorder.batches[0] == [.added(folder.file("a.lua", "return {}"))])

        try folder.write("b.lua", "return { b = true }")
        push.yield(.fileSystemEvent)
        try #require(await recorder.waitForBatches(2))
        #expect(recorder.batches[1] == [.added(folder.file("b.lua", "return { b = true }"))])

        push.yield(.poll)  // nothing changed: a scan, no batch
        try folder.remove("a.lua")
        push.finish()
        await run
        #expect(recorder.batches.count == 3)
        #expect(recorder.batches[2] == [.removed(path: folder.path + "/a.lua", name: "a")])
        let counters = watcher.counters
        #expect(counters.batchesDelivered == 3 && counters.changesDelivered == 3)
        #expect(counters.fileSystemTriggers == 1 && counters.pollTicks == 1)
        #expect(!watcher.isRunning)
    }

    @Test func reloadNowReturnsAfterItsBatchWasDelivered() async throws {
        let folder = try ReloadTestFolder(["a.lua": "return {}"])
        let watcher = ScriptFolderWatcher(folders: [folder.path], logger: .silent)
        let recorder = ReloadBatchRecorder()
        let (triggers, push) = AsyncStream.makeStream(of: ReloadTrigger.self)
        async let run: Void = watcher.run(triggers: triggers) { recorder.append($0) }
        try #require(await recorder.waitForBatches(1))

        try folder.write("a.lua", "return { edited = true }")
        #expect(await watcher.reloadNow())
        #expect(recorder.batches.count == 2, "delivered before reloadNow returned")
        #expect(recorder.batches.last == [.modified(folder.file("a.lua", "return { edited = true }"))])

        #expect(await watcher.reloadNow(), "nothing changed: the scan runs, no batch")
        #expect(recorder.batches.count == 2)
        #expect(watcher.counters.manualReloads == 2)
        #expect(watcher.counters.scans == 3)
        push.finish()
        await run
        #expect(await watcher.reloadNow() == false, "not running")
    }

    @Test func overflowTriggerRescansEverything() async throws {
        let folder = try ReloadTestFolder(["a.lua": "return {}"])
        let watcher = ScriptFolderWatcher(folders: [folder.path], configuration: .init(debounce: .zero), logger: .silent)
        let recorder = ReloadBatchRecorder()
        let (triggers, push) = AsyncStream.makeStream(of: ReloadTrigger.self)
        try folder.write("a.lua", "return { lost = 'event' }")
        push.yield(.overflow)
        push.finish()
        await watcher.run(triggers: triggers) { recorder.append($0) }
        #expect(recorder.batches == [[.added(folder.file("a.lua", "return { lost = 'event' }"))]])
        #expect(watcher.counters.overflows == 1)
        #expect(watcher.counters.scans == 2)
    }

    @Test func burstOfTriggersWaitsForTheDebounceAndIsOneScan() async throws {
        let folder = try ReloadTestFolder(["a.lua": "return {}"])
        let clock = ManualClock()
        let watcher = ScriptFolderWatcher(folders: [folder.path], configuration: .init(debounce: .milliseconds(50)), logger: .silent)
        let recorder = ReloadBatchRecorder()
        let (triggers, push) = AsyncStream.makeStream(of: ReloadTrigger.self)
        async let run: Void = watcher.run(triggers: triggers, clock: clock) { recorder.append($0) }
        try #require(await recorder.waitForBatches(1))

        try folder.write("a.lua", "return { saved = 1 }")
        for _ in 0..<5 { push.yield(.fileSystemEvent) }
        #expect(await reloadEventually { watcher.counters.fileSystemTriggers == 5 })
        await clock.waitForSleepers(count: 1)
        #expect(watcher.counters.scans == 1, "no scan before the debounce elapsed")
        clock.advance(by: .milliseconds(50))
        try #require(await recorder.waitForBatches(2))
        #expect(recorder.batches[1] == [.modified(folder.file("a.lua", "return { saved = 1 }"))])
        #expect(watcher.counters.scans == 2, "five events, one scan")
        push.finish()
        await run
    }

    @Test func cancellingTheTaskEndsRunNormally() async throws {
        let folder = try ReloadTestFolder(["a.lua": "return {}"])
        let watcher = ScriptFolderWatcher(
            folders: [folder.path], configuration: .init(pollInterval: .milliseconds(10), reloadsOnHangup: false), logger: .silent)
        let recorder = ReloadBatchRecorder()
        let task = Task { await watcher.run { recorder.append($0) } }
        try #require(await recorder.waitForBatches(1))
        #expect(watcher.isRunning)
        task.cancel()
        await task.value
        #expect(!watcher.isRunning)
    }

    @Test func secondConcurrentRunReturnsAtOnce() async throws {
        let folder = try ReloadTestFolder([:])
        let watcher = ScriptFolderWatcher(folders: [folder.path], logger: .silent)
        let (triggers, push) = AsyncStream.makeStream(of: ReloadTrigger.self)
        async let run: Void = watcher.run(triggers: triggers) { _ in }
        #expect(await reloadEventually { watcher.counters.scans == 1 })
        let (others, _) = AsyncStream.makeStream(of: ReloadTrigger.self)
        await watcher.run(triggers: others) { _ in }  // returns: the first run owns the watcher
        #expect(watcher.isRunning)
        push.finish()
        await run
    }

    // MARK: - Watcher on the real triggers (bounded waits)

    @Test func inotifyDeliversAWriteAsOneBatch() async throws {
        let folder = try ReloadTestFolder(["a.lua": "return {}"])
        let watcher = ScriptFolderWatcher(folders: [folder.path], configuration: .init(reloadsOnHangup: false), logger: .silent)
        let recorder = ReloadBatchRecorder()
        let task = Task { await watcher.run { recorder.append($0) } }
        defer { task.cancel() }
        try #require(await recorder.waitForBatches(1))
        #expect(watcher.polledFolders.isEmpty)

        // A save by write-temporary-then-rename, with an editor's swap file beside it.
        try folder.write(".a.lua.swp", "swap")
        try folder.write("a.lua.tmp", "return { saved = true }")
        try folder.rename("a.lua.tmp", to: "a.lua")
        try #require(await recorder.waitForBatches(2))
        #expect(recorder.batches[1] == [.modified(folder.file("a.lua", "return { saved = true }"))])
        let counters = watcher.counters
        #expect(counters.inotifyEvents >= 2)
        #expect(counters.pollingFallbacks == 0)
        #expect(counters.pollTicks == 0)
        task.cancel()
        await task.value
    }

    @Test func folderRemovedAndRecreatedIsPolledThenWatchedAgain() async throws {
        let folder = try ReloadTestFolder(["a.lua": "return {}"])
        let watcher = ScriptFolderWatcher(
            folders: [folder.path], configuration: .init(pollInterval: .milliseconds(20), reloadsOnHangup: false), logger: .silent)
        let recorder = ReloadBatchRecorder()
        let task = Task { await watcher.run { recorder.append($0) } }
        defer { task.cancel() }
        try #require(await recorder.waitForBatches(1))

        try folder.removeEverything()
        try #require(await recorder.waitForBatches(2))
        #expect(recorder.batches[1] == [
            .unreadable(path: folder.path, reason: "folder does not exist"),
            .removed(path: folder.path + "/a.lua", name: "a"),
        ])
        #expect(await reloadEventually { !watcher.polledFolders.isEmpty })

        try folder.recreate()
        try folder.write("a.lua", "return { back = true }")
        try #require(await recorder.waitForBatches(3))
        #expect(recorder.batches[2] == [.added(folder.file("a.lua", "return { back = true }"))])
        #expect(await reloadEventually { watcher.polledFolders.isEmpty }, "watched again")
        #expect(watcher.counters.watchesAdded == 2)
        #expect(watcher.counters.pollingFallbacks == 1)

        let events = watcher.counters.inotifyEvents
        try folder.write("b.lua", "return {}")
        try #require(await recorder.waitForBatches(4))
        #expect(recorder.batches[3] == [.added(folder.file("b.lua", "return {}"))])
        #expect(watcher.counters.inotifyEvents > events, "seen through the new watch")
        task.cancel()
        await task.value
    }

    @Test func missingFolderAtStartIsPolledUntilItAppears() async throws {
        let parent = try ReloadTestFolder([:])
        let path = parent.path + "/later"
        let watcher = ScriptFolderWatcher(
            folders: [path], configuration: .init(pollInterval: .milliseconds(20), reloadsOnHangup: false), logger: .silent)
        let recorder = ReloadBatchRecorder()
        let task = Task { await watcher.run { recorder.append($0) } }
        defer { task.cancel() }
        try #require(await recorder.waitForBatches(1))
        #expect(recorder.batches[0] == [.unreadable(path: path, reason: "folder does not exist")])
        #expect(watcher.polledFolders == [path: "folder does not exist"])
        try parent.makeFolder("later")
        try parent.write("later/x.lua", "return {}")
        try #require(await recorder.waitForBatches(2))
        #expect(recorder.batches[1] == [.added(ScriptFile(path: path + "/x.lua", name: "x", contents: Array("return {}".utf8)))])
        #expect(await reloadEventually { watcher.polledFolders.isEmpty })
        task.cancel()
        await task.value
    }

    @Test func pollingAloneFindsChangesWhenInotifyIsOff() async throws {
        let folder = try ReloadTestFolder(["a.lua": "return {}"])
        let watcher = ScriptFolderWatcher(
            folders: [folder.path],
            configuration: .init(pollInterval: .milliseconds(20), usesInotify: false, reloadsOnHangup: false), logger: .silent)
        let recorder = ReloadBatchRecorder()
        let task = Task { await watcher.run { recorder.append($0) } }
        defer { task.cancel() }
        try #require(await recorder.waitForBatches(1))
        #expect(watcher.polledFolders == [folder.path: "inotify is turned off"])
        try folder.write("a.lua", "return { polled = true }")
        try #require(await recorder.waitForBatches(2))
        #expect(recorder.batches[1] == [.modified(folder.file("a.lua", "return { polled = true }"))])
        #expect(watcher.counters.inotifyEvents == 0)
        #expect(watcher.counters.pollTicks >= 1)
        task.cancel()
        await task.value
    }

    @Test func hangupSignalTriggersAScan() async throws {
        let folder = try ReloadTestFolder(["a.lua": "return {}"])
        let watcher = ScriptFolderWatcher(folders: [folder.path], configuration: .init(pollInterval: .seconds(3600), usesInotify: false), logger: .silent)
        let recorder = ReloadBatchRecorder()
        let task = Task { await watcher.run { recorder.append($0) } }
        defer { task.cancel() }
        try #require(await recorder.waitForBatches(1))
        // Dispatch installs its handler when the source registers; until then
        // SIGHUP would end the test process.
        #expect(await reloadEventually { hangupHasAHandler() })
        try folder.write("a.lua", "return { hup = true }")
        kill(getpid(), SIGHUP)
        try #require(await recorder.waitForBatches(2))
        #expect(recorder.batches[1] == [.modified(folder.file("a.lua", "return { hup = true }"))])
        #expect(watcher.counters.hangups >= 1)
        task.cancel()
        await task.value
    }
}

// MARK: - Helpers

/// A folder under /tmp, made for one test and removed with everything in it
/// when the test's value goes away.
private final class ReloadTestFolder {
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

private struct ReloadTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Keeps the batches a watcher delivered.
private final class ReloadBatchRecorder: Sendable {
    private let storage = Mutex<[[ScriptFolderChange]]>([])

    var batches: [[ScriptFolderChange]] { storage.withLock { $0 } }

    func append(_ batch: [ScriptFolderChange]) { storage.withLock { $0.append(batch) } }

    /// Waits until `count` batches arrived: true as soon as they did, false
    /// after 10 s.
    func waitForBatches(_ count: Int) async -> Bool {
        await reloadEventually { self.batches.count >= count }
    }
}

/// Checks `condition` every few milliseconds until it holds (true) or 10 s
/// pass (false). The bound only keeps a broken build from hanging; the
/// outcome is the condition's.
private func reloadEventually(_ condition: () -> Bool) async -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: .seconds(10))
    while !condition() {
        if clock.now >= deadline { return false }
        try? await Task.sleep(for: .milliseconds(2))
    }
    return true
}

/// Whether a handler (not the default action, which ends the process) is
/// installed for SIGHUP.
private func hangupHasAHandler() -> Bool {
    var action = sigaction()
    sigaction(SIGHUP, nil, &action)
    return action.__sigaction_handler.sa_handler != nil
}
