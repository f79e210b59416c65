import Resilience
import Testing

@testable import Sentinel

#if canImport(Glibc)
import Glibc
#endif

/// How a script comes back: a reload ends a suspension at once, and a script
/// stopped by a limit runs on in a fresh sandbox with its memory.
@Suite struct ScriptRecoveryTests {
    @Test func reloadOfASuspendedScriptSwapsAtOnceEvenWhenStaged() async throws {
        let fixture = try Fixture()
        let engine = ScriptEngine(plane: fixture.plane, failureLimit: 2, logger: .silent)
        await engine.load(
            path: "p/s.lua",
            source: """
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
        await engine.load(
            path: "p/loop.lua",
            source: """
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
