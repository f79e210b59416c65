import Resilience
import Testing

@testable import Sentinel

#if canImport(Glibc)
import Glibc
#endif

/// A temporary folder of scripts, removed at the end of the test.
final class ScriptFolder {
    let path: String

    init() {
        var template = Array("/tmp/sentinel-hot-reload-XXXXXX".utf8CString)
        path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
    }

    deinit {
        if let directory = opendir(path) {
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if name != "." && name != ".." { unlink(path + "/" + name) }
            }
            closedir(directory)
        }
        rmdir(path)
    }

    func write(_ name: String, _ text: String) { write(name, Array(text.utf8)) }

    func write(_ name: String, _ bytes: [UInt8]) {
        let temporary = path + "/." + name + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        bytes.withUnsafeBytes { _ = Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        rename(temporary, path + "/" + name)
    }

    func remove(_ name: String) { unlink(path + "/" + name) }
}

/// Waits (bounded) until `condition` holds; the outcome is decided by the condition, not by time.
func eventually(_ condition: () async -> Bool) async -> Bool {
    for _ in 0..<400 {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(25))
    }
    return await condition()
}

/// Hot reload through the real watcher and engine.
@Suite(.serialized) struct HotReloadTests {
    static func rule(_ value: Int, interval: String = "1s") -> String {
        "return { name = 'guard', interval = '\(interval)', evaluate = function() sentinel.set('checkout.retry.max_attempts', \(value)) end }"
    }

    @Test func editsAreLiveAndBrokenEditsKeepTheLastGoodVersion() async throws {
        let fixture = try Fixture()
        let folder = ScriptFolder()
        folder.write("guard.lua", Self.rule(2))
        let sentinel = Sentinel(plane: fixture.plane, configuration: .init(folders: [folder.path]), logger: .silent)
        let engine = sentinel.engine
        let running = Task { try await sentinel.run() }
        defer { running.cancel() }
        #expect(await eventually { await engine.status(of: "guard") != nil })
        let first = await engine.status(of: "guard")?.digest

        // Each bad script of the ScriptHost issue, delivered through hot reload.
        let broken = [
            "return {",  // half-saved
            "while true do end",  // runaway at load
            "local s = 'x' while true do s = s .. s end",  // memory bomb
            "return { interval = '1s', evaluate = function() return os.execute('true') end }",  // sandbox escape
            "return { interval = '1s', evaluate = function() error(setmetatable({}, { __tostring = function() while true do end end })) end }",
        ]
        for (index, source) in broken.enumerated() {
            let failures = fixture.plane.audit.count(of: .failed)
            folder.write("guard.lua", source)
            #expect(await eventually { fixture.plane.audit.count(of: .failed) > failures }, "case \(index)")
            #expect(await engine.status(of: "guard")?.digest == first, "case \(index)")
            let entry = try #require(fixture.plane.audit.entries(where: { $0.outcome == .failed }).last)
            #expect(entry.action == "script.reload")
            #expect(entry.reason?.contains("the last good version keeps running") == true)
        }
        // A good edit replaces it.
        folder.write("guard.lua", Self.rule(4))
        #expect(await eventually { await engine.status(of: "guard")?.digest != first })
        // Not UTF-8, then deleted.
        folder.write("guard.lua", [0xff, 0xfe, 0x41])
        #expect(await eventually { fixture.plane.audit.last?.reason?.contains("not valid UTF-8") == true })
        folder.remove("guard.lua")
        #expect(await eventually { await engine.status(of: "guard") == nil })
        #expect(fixture.plane.audit.last?.action == "script.unload")
    }

    @Test func twoHundredScriptsAndAHugeFile() async throws {
        let fixture = try Fixture()
        let folder = ScriptFolder()
        for index in 0..<200 {
            folder.write("rule\(index).lua", "return { interval = '5s', evaluate = function() end }")
        }
        folder.write("huge.lua", [UInt8](repeating: 0x2d, count: 50 << 20))
        let sentinel = Sentinel(plane: fixture.plane, configuration: .init(folders: [folder.path]), logger: .silent)
        let engine = sentinel.engine
        let running = Task { try await sentinel.run() }
        defer { running.cancel() }
        #expect(await eventually { await engine.scripts.count == 200 })
        #expect(
            await eventually {
                fixture.plane.audit.entries.contains {
                    $0.target == "huge" && $0.outcome == .failed && $0.reason?.contains("1 MiB") == true
                }
            })
    }

    @Test func scriptWithoutTheRightRoleIsDeniedAndAudited() async throws {
        var access = AccessPolicy()
        access.roles["canary"] = Role(grants: [Grant(commands: ["param.set"], targets: ["checkout.split.*"])])
        access.assignments["script:guard"] = ["canary"]
        let fixture = try Fixture(access: access)
        let engine = ScriptEngine(plane: fixture.plane, logger: .silent)
        await engine.load(path: "p/guard.lua", source: Self.rule(1))
        fixture.advance(.seconds(1))
        let round = await engine.tick()
        #expect(round.outcomes.map(\.outcome.outcome) == [.denied])
        #expect(try fixture.value("checkout.retry.max_attempts") == 3)
    }

    @Test func stagedReloadRunsBesideTheActiveVersionFirst() async throws {
        let fixture = try Fixture()
        let engine = ScriptEngine(plane: fixture.plane, logger: .silent)
        let staged = { (value: Int) in
            "return { name = 'guard', interval = '1s', staged = 2, evaluate = function() sentinel.set('checkout.retry.max_attempts', \(value)) end }"
        }
        await engine.load(path: "p/guard.lua", source: staged(2))
        await engine.load(path: "p/guard.lua", source: staged(4))
        #expect(await engine.status(of: "guard")?.staged == true)
        for _ in 0..<2 {
            fixture.advance(.seconds(1))
            await engine.tick()
            #expect(try fixture.value("checkout.retry.max_attempts") == 2)  // the active version's plan applies
        }
        #expect(await engine.status(of: "guard")?.staged == false)
        let takeover = fixture.plane.audit.entries(where: { $0.action == "script.reload" }).last
        #expect(takeover?.outcome == .applied)
        #expect(takeover?.reason == "the staged version ran beside the active one and now takes over")
        fixture.advance(.seconds(1))
        await engine.tick()
        #expect(try fixture.value("checkout.retry.max_attempts") == 4)
    }

    @Test func stateIsSavedOnShutdownAndRestored() async throws {
        let folder = ScriptFolder()
        let stateFile = folder.path + "/state.json"
        do {
            let fixture = try Fixture()
            _ = await fixture.set("checkout.retry.max_attempts", 5, as: .operator("alice"))
            _ = await fixture.plane.execute("automation.freeze", ["reason": "drill"], context: .init(identity: .operator("alice")))
            let sentinel = Sentinel(
                plane: fixture.plane, configuration: .init(folders: [folder.path], stateFile: stateFile), logger: .silent)
            let running = Task { try await sentinel.run() }
            try await Task.sleep(for: .milliseconds(50))
            running.cancel()
            try await running.value
        }
        let fixture = try Fixture()
        let sentinel = Sentinel(plane: fixture.plane, configuration: .init(folders: [folder.path], stateFile: stateFile), logger: .silent)
        sentinel.restoreState()
        #expect(try fixture.value("checkout.retry.max_attempts") == 5)
        #expect(fixture.plane.frozen?.reason == "drill")
    }
}
