import Foundation
import Resilience
import Synchronization
import Testing

@testable import Sentinel

#if canImport(Glibc)
import Glibc
#endif

/// The watcher behind hot reload: digests, events, the schedule, the trigger
/// seam, and the real inotify, polling and SIGHUP paths (bounded waits).
@Suite struct ReloadWatcherTests {
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
        #expect(
            events == [
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
        #expect(
            recorder.batches[1] == [
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
        let watcher = ScriptFolderWatcher(
            folders: [folder.path], configuration: .init(pollInterval: .seconds(3600), usesInotify: false), logger: .silent)
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
