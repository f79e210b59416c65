import Resilience
import Testing

@testable import Sentinel

/// The rule the README shows loads, passes the check, and acts as it says.
@Suite struct ReadmeTests {
    static func readmeRule() throws -> String {
        let readme = String(decoding: try ScriptFile.read(path: "README.md", maximumFileSize: 1 << 20).get().contents, as: UTF8.self)
        let start = try #require(readme.range(of: "```lua\n"))
        let end = try #require(readme.range(of: "```", range: start.upperBound..<readme.endIndex))
        return String(readme[start.upperBound..<end.lowerBound])
    }

    @Test func readmeRuleWorks() async throws {
        let fixture = try Fixture()
        let engine = ScriptEngine(plane: fixture.plane, logger: .silent)
        _ = try await engine.load(path: "policies/shed-retries.lua", source: try Self.readmeRule()).get()
        for _ in 0..<3 {
            for _ in 0..<5 {
                fixture.advance(.seconds(1))
                for index in 0..<20 {
                    fixture.pipeline.windows.record(index < 8 ? .failure : .success, latency: 1_000_000, now: fixture.pipeline.time.now())
                }
            }
            await engine.tick()
        }
        #expect(try fixture.value("checkout.retry.max_attempts") == 1)
        #expect(fixture.plane.audit.last?.reason == "error rate high")
    }
}
