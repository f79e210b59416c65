import Resilience
import Sentinel
import Testing

@testable import Simulation

/// `sentinel run --workload`: the same simulated backends and traffic, on the plane's clock.
@Suite struct WorkloadTests {
    @Test func aWorkloadDrivesCallsAsItsClockMoves() async throws {
        let clock = ManualClock()
        let registry = ParameterRegistry()
        let plane = ControlPlane(registry: registry, time: ClockTimeSource(clock), epoch: 1_800_000_000)
        let scenario = try Scenario(
            yaml: """
                duration: 1m
                pipelines:
                  api:
                    policies: [ { retry: { max_attempts: 3 } } ]
                    backend: { latency: 10ms, error_rate: 0.5 }
                    traffic: { rate: 100 }
                events:
                  - at: 5s
                    command: param.set
                    args: { param: api.retry.max_attempts, value: 1 }
                  - at: 6s
                    backend: api
                    set: { error_rate: 0 }
                """)
        let workload = try Workload(scenario: scenario, plane: plane, logger: .silent)
        let pipeline = try #require(registry.pipeline(named: "api"), "registered before it runs, so scripts see it at once")
        let task = Task { try await workload.run() }
        for _ in 0..<200 {  // 20 seconds of the clock, 100 ms at a time
            await clock.waitForSleepers(count: 1)
            clock.advance(by: .milliseconds(100))
        }
        await clock.waitForSleepers(count: 1)
        task.cancel()
        _ = await task.result

        let now = plane.time.now()
        let minute = pipeline.windows.stats(.oneMinute, now: now)
        #expect(minute.calls > 1800 && minute.calls < 2200, "about 100 per second: \(minute.calls)")
        #expect(minute.failures > 100, "the first 6 seconds failed often")
        #expect(try registry.value("api.retry.max_attempts") == 1)
        #expect(plane.audit.last?.actor == "operator:workload")
        // From 6s the backend stopped failing: the last 10 seconds are clean.
        let recent = pipeline.windows.stats(.tenSeconds, now: now)
        #expect(recent.calls > 800 && recent.failures == 0)
    }
}
