import Resilience
import Testing

@testable import Sentinel

#if canImport(Glibc)
import Glibc
#endif

/// Behaviours a review asked for: guards under concurrency, state files kept, staged reload of a broken script.
@Suite struct ReviewFixTests {
    @Test func concurrentChangesCannotBothPassTheIntervalGuard() async throws {
        let guards = GuardPolicy(parameters: [ParameterGuard(pattern: "checkout.retry.*", minInterval: .seconds(30))])
        let fixture = try Fixture(guards: guards)
        let outcomes = await withTaskGroup(of: AuditOutcome.self) { group in
            for value in 1...40 {
                group.addTask { await fixture.set("checkout.retry.max_attempts", .int(Int64(value % 5 + 1))).outcome }
            }
            return await group.reduce(into: [AuditOutcome]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 == .applied }.count == 1)
        #expect(outcomes.filter { $0 == .rejected }.count == 39)
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

    @Test func reloadOfASuspendedScriptSwapsAtOnceEvenWhenStaged() async throws {
        let fixture = try Fixture()
        let engine = ScriptEngine(plane: fixture.plane, failureLimit: 2, logger: .silent)
        await engine.load(path: "p/s.lua", source: """
            return { name = 's', interval = '1s', staged = 3, evaluate = function() if sentinel.now() > 0 then error('x') end end }
            """)
        for _ in 0..<2 {
            fixture.advance(.seconds(1))
            await engine.tick()
        }
        #expect(await engine.status(of: "s")?.suspended == true)
        await engine.load(path: "p/s.lua", source: "return { name = 's', interval = '1s', staged = 3, evaluate = function() end }")
        #expect(await engine.status(of: "s")?.suspended == false)
        #expect(await engine.status(of: "s")?.staged == false)
    }

    @Test func scriptStoppedByALimitGetsAFreshSandbox() async throws {
        let fixture = try Fixture()
        let engine = ScriptEngine(plane: fixture.plane, logger: .silent)
        await engine.load(path: "p/loop.lua", source: """
            return { name = 'loop', interval = '1s', evaluate = function(state, memory)
              memory.ticks = (memory.ticks or 0) + 1
              if memory.ticks == 1 and sentinel.now() > 0 then while true do end end
              sentinel.set('checkout.retry.max_attempts', memory.ticks)
            end }
            """)
        fixture.advance(.seconds(1))
        let first = await engine.tick()
        #expect(first.failed["loop"]?.code == .instructionBudget)
        fixture.advance(.seconds(1))
        let second = await engine.tick()
        #expect(second.failed.isEmpty)
        #expect(try fixture.value("checkout.retry.max_attempts") == 2)  // memory carried into the new sandbox
    }
}
