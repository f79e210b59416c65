import Synchronization
import Testing

@testable import Sentinel

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite struct StateFileTests {
    typealias Support = AuditFileTesting

    static let first = PersistedState(
        savedAt: 1_795_459_500.123,
        parameters: [
            "checkout.retry.max_attempts": PersistedParameter(value: 2),
            "checkout.timeout.duration": PersistedParameter(value: 0.5, shadow: 0.25),
        ],
        frozen: true,
        trials: ["timeout-trial": ["state": "running", "started": 1_795_459_000]],
        extensions: ["observer": ["windows": ["10s", "1m"]]])

    static let second = PersistedState(
        savedAt: 1_795_459_600, parameters: ["checkout.retry.max_attempts": PersistedParameter(value: 3)])

    // MARK: - Saving and loading

    @Test func savedStateLoadsBackEqual() throws {
        let directory = try Support.TemporaryDirectory()
        let file = StateFile(path: directory.file("state.json"))
        try file.save(Self.first)
        #expect(try file.load() == Self.first)
        try file.save(Self.second)
        #expect(try file.load() == Self.second)
        #expect(!Support.exists(file.temporaryPath))
    }

    @Test func missingFileLoadsAsNil() throws {
        let directory = try Support.TemporaryDirectory()
        #expect(try StateFile(path: directory.file("state.json")).load() == nil)
    }

    @Test func fileIsSortedPrettyJSON() throws {
        let directory = try Support.TemporaryDirectory()
        let file = StateFile(path: directory.file("state.json"))
        try file.save(
            PersistedState(
                savedAt: 1_795_459_500.5,
                parameters: ["checkout.timeout.duration": PersistedParameter(value: 0.5, shadow: 0.25)]))
        let expected = """
            {
              "extensions": {},
              "frozen": false,
              "parameters": {
                "checkout.timeout.duration": {
                  "shadow": 0.25,
                  "value": 0.5
                }
              },
              "saved_at": 1795459500.5,
              "trials": {},
              "version": 1
            }

            """
        #expect(try Support.contents(file.path) == expected)
    }

    @Test func numbersJSONCannotHoldRoundTrip() throws {
        let directory = try Support.TemporaryDirectory()
        let file = StateFile(path: directory.file("state.json"))
        try file.save(PersistedState(savedAt: 0, parameters: ["a.b.c": PersistedParameter(value: .infinity, shadow: -.infinity)]))
        #expect(try Support.contents(file.path).contains(#""value": "Infinity""#))
        let loaded = try file.load()
        #expect(loaded?.parameters["a.b.c"] == PersistedParameter(value: .infinity, shadow: -.infinity))
    }

    @Test func integersAreAcceptedWhereNumbersAreExpected() throws {
        let directory = try Support.TemporaryDirectory()
        let path = directory.file("state.json")
        try Support.write(
            path, #"{"frozen": false, "parameters": {"a.b.c": {"value": 3}}, "saved_at": 10, "trials": null, "version": 1}"#)
        let loaded = try StateFile(path: path).load()
        #expect(loaded?.parameters["a.b.c"]?.value == 3)
        #expect(loaded?.savedAt == 10)
        #expect(loaded?.trials == .null)
        #expect(loaded?.extensions == [:])
    }

    // MARK: - Crashes and failures during a save

    @Test func temporaryFileLeftByACrashIsIgnoredAndReplaced() throws {
        let directory = try Support.TemporaryDirectory()
        let file = StateFile(path: directory.file("state.json"))
        try file.save(Self.first)
        // A crash while the next save was writing its temporary file.
        try Support.write(file.temporaryPath, #"{"version": 1, "frozen": tr"#)
        #expect(try file.load() == Self.first)
        try file.save(Self.second)
        #expect(try file.load() == Self.second)
        #expect(!Support.exists(file.temporaryPath))
    }

    @Test func renameThatNeverHappensLeavesThePreviousStateIntact() throws {
        let directory = try Support.TemporaryDirectory()
        let operations = Support.FaultyFileOperations()
        let file = StateFile(path: directory.file("state.json"), operations: operations)
        try file.save(Self.first)
        operations.faults.withLock { $0.renameError = EIO }
        #expect {
            try file.save(Self.second)
        } throws: { error in
            guard let error = error as? StateFileError else { return false }
            return error.code == .io && error.message.contains("rename") && error.message.contains(file.path)
                && error.errno == EIO
        }
        #expect(try file.load() == Self.first)
        #expect(!Support.exists(file.temporaryPath))
    }

    @Test(arguments: [0, 1, 100])
    func fullDiskDuringASaveLeavesThePreviousStateIntact(spaceLeft: Int) throws {
        let directory = try Support.TemporaryDirectory()
        let operations = Support.FaultyFileOperations()
        let file = StateFile(path: directory.file("state.json"), operations: operations)
        try file.save(Self.first)
        operations.faults.withLock { $0.spaceLeft = spaceLeft }
        #expect {
            try file.save(Self.second)
        } throws: { error in
            (error as? StateFileError)?.code == .io && "\(error)".contains("ENOSPC")
        }
        #expect(try file.load() == Self.first)
        #expect(!Support.exists(file.temporaryPath))
        operations.faults.withLock { $0.spaceLeft = nil }
        try file.save(Self.second)
        #expect(try file.load() == Self.second)
    }

    @Test func failedFsyncAbandonsTheSave() throws {
        let directory = try Support.TemporaryDirectory()
        let operations = Support.FaultyFileOperations()
        let file = StateFile(path: directory.file("state.json"), operations: operations)
        try file.save(Self.first)
        operations.faults.withLock { $0.fsyncError = EIO }
        #expect(throws: StateFileError.self) { try file.save(Self.second) }
        #expect(operations.faults.withLock { $0.renames.count } == 1)  // only the first save renamed
        #expect(try file.load() == Self.first)
    }

    @Test func saveSyncsTheFileBeforeTheRenameAndTheDirectoryAfter() throws {
        let directory = try Support.TemporaryDirectory()
        let operations = Support.FaultyFileOperations()
        let file = StateFile(path: directory.file("state.json"), operations: operations)
        try file.save(Self.first)
        #expect(operations.faults.withLock { $0.fsyncCount } == 2)
        #expect(operations.faults.withLock { $0.renames } == ["\(file.temporaryPath) -> \(file.path)"])
    }

    @Test func concurrentSavesThroughOneFileNeverLeaveAMix() async throws {
        let directory = try Support.TemporaryDirectory()
        let file = StateFile(path: directory.file("state.json"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<8 {
                group.addTask {
                    try file.save(PersistedState(savedAt: Double(index), parameters: ["a.b.c": PersistedParameter(value: Double(index))]))
                }
            }
            try await group.waitForAll()
        }
        let loaded = try #require(try file.load())
        #expect(loaded.parameters["a.b.c"]?.value == loaded.savedAt)
    }

    // MARK: - Bad files

    @Test func emptyFileIsAClearError() throws {
        try expectLoadError("", code: .empty, saying: "the file is empty")
        try expectLoadError("  \n", code: .empty, saying: "the file is empty")
    }

    @Test func truncatedFileIsAClearError() throws {
        let directory = try Support.TemporaryDirectory()
        let file = StateFile(path: directory.file("state.json"))
        try file.save(Self.first)
        let whole = Array(try Support.contents(file.path).utf8)
        for length in [1, whole.count / 2, whole.count - 2] {
            try Support.write(file.path, Array(whole[0..<length]))
            #expect {
                try file.load()
            } throws: { error in
                guard let error = error as? StateFileError else { return false }
                return error.code == .truncated && error.message.hasPrefix(file.path + ": ")
                    && error.message.contains("truncated") && error.line != nil
            }
        }
    }

    @Test func corruptFileNamesTheLineAndColumn() throws {
        let text = "{\n  \"version\": 1,\n  \"frozen\": fals,\n  \"saved_at\": 0\n}\n"
        let error = try expectLoadError(text, code: .malformed, saying: "line 3, column 17: expected 'false'")
        #expect(error.line == 3)
        #expect(error.column == 17)
    }

    @Test func binaryGarbageIsAClearError() throws {
        let directory = try Support.TemporaryDirectory()
        let path = directory.file("state.json")
        try Support.write(path, [0x7B, 0x22, 0xFF, 0xFE, 0x00, 0x22])
        #expect {
            try StateFile(path: path).load()
        } throws: { error in
            (error as? StateFileError)?.code == .malformed && "\(error)".contains("UTF-8")
        }
    }

    @Test func newerVersionIsRefusedWithBothVersions() throws {
        let text = #"{"version": 7, "something": "new"}"#
        try expectLoadError(text, code: .versionTooNew, saying: "version 7 is newer than this build understands (1)")
    }

    @Test(arguments: [
        (
            #"{"version": 0, "frozen": false, "parameters": {}, "saved_at": 0, "trials": {}}"#, StateFileError.Code.unsupportedVersion,
            "version 0"
        ),
        (#"{"frozen": false, "parameters": {}, "saved_at": 0, "trials": {}}"#, .invalidContent, "field \"version\" is missing"),
        (#"{"version": "1"}"#, .invalidContent, "field \"version\" is string, expected an integer"),
        (#"[1, 2]"#, .invalidContent, "the top level is array"),
        (#"{"version": 1, "frozen": false, "paramters": {}, "saved_at": 0, "trials": {}}"#, .invalidContent, "unknown field \"paramters\""),
        (#"{"version": 1, "frozen": "no", "parameters": {}, "saved_at": 0, "trials": {}}"#, .invalidContent, "field \"frozen\" is string"),
        (
            #"{"version": 1, "frozen": false, "parameters": {"a.b.c": {"shadow": 1}}, "saved_at": 0, "trials": {}}"#, .invalidContent,
            "parameters.a.b.c.value"
        ),
        (
            #"{"version": 1, "frozen": false, "parameters": {"a.b.c": {"value": true}}, "saved_at": 0, "trials": {}}"#, .invalidContent,
            "is boolean, expected a number"
        ),
        (#"{"version": 1, "frozen": false, "parameters": {}, "saved_at": 0}"#, .invalidContent, "field \"trials\" is missing"),
    ])
    func wrongContentIsAClearError(text: String, code: StateFileError.Code, saying: String) throws {
        try expectLoadError(text, code: code, saying: saying)
    }

    @Test func unreadableFileIsAnIOError() throws {
        let directory = try Support.TemporaryDirectory()
        // A directory where the file should be: open works, read fails with EISDIR.
        #expect {
            try StateFile(path: directory.path).load()
        } throws: { error in
            (error as? StateFileError)?.code == .io && "\(error)".contains("EISDIR")
        }
    }

    // MARK: - Helpers

    @discardableResult
    private func expectLoadError(
        _ text: String, code: StateFileError.Code, saying expected: String, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> StateFileError {
        let directory = try Support.TemporaryDirectory()
        let path = directory.file("state.json")
        try Support.write(path, text)
        do {
            let loaded = try StateFile(path: path).load()
            Issue.record("loaded \(String(describing: loaded)) instead of failing", sourceLocation: sourceLocation)
            return StateFileError(.io, path: path, "no error")
        } catch {
            #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
            #expect(error.message.hasPrefix(path + ": "), "\(error)", sourceLocation: sourceLocation)
            #expect(error.message.contains(expected), "\(error)", sourceLocation: sourceLocation)
            return error
        }
    }

    @Test func unreadableStateFileIsKeptAndUnknownKnobsSurviveASave() async throws {
        let folder = ScriptFolder()
        let path = folder.path + "/state.json"
        folder.write("state.json", "{ not json")
        let fixture = try Fixture()
        let sentinel = Sentinel(plane: fixture.plane, configuration: .init(folders: [folder.path], stateFile: path), logger: .silent)
        sentinel.restoreState()
        #expect(access(path + ".unreadable", F_OK) == 0)
        // A saved knob of a pipeline that is not registered here is written back, not dropped.
        var state = fixture.plane.persistedState()
        state.parameters["payments.retry.max_attempts"] = PersistedParameter(value: 2)
        try StateFile(path: path).save(state)
        let second = Sentinel(plane: fixture.plane, configuration: .init(folders: [folder.path], stateFile: path), logger: .silent)
        second.restoreState()
        second.saveState()
        let saved = try #require(try StateFile(path: path).load())
        #expect(saved.parameters["payments.retry.max_attempts"]?.value == 2)
        unlink(path + ".unreadable")
    }
}
