import Testing

@testable import Resilience
@testable import Sentinel

#if canImport(Glibc)
import Glibc
#endif

/// The scripts in `policies/`, each on the manual clock: doing the right thing, and not the wrong one.
@Suite struct ShippedPolicyTests {
    static func source(_ file: String) throws -> String {
        // Tests run from the package root.
        switch ScriptFile.read(path: "policies/\(file)") {
        case .success(let script): return String(decoding: script.contents, as: UTF8.self)
        case .failure(let error): throw error
        }
    }

    struct Harness {
        let fixture: Fixture
        let engine: ScriptEngine
        let alerts = MemoryAlertSink()

        init(_ file: String) async throws {
            fixture = try Fixture()
            engine = ScriptEngine(plane: fixture.plane, logger: .silent, alertSink: alerts)
            let result = await engine.load(path: "policies/\(file)", source: try ShippedPolicyTests.source(file))
            _ = try result.get()
        }

        var now: Int64 { fixture.pipeline.time.now() }

        /// Traffic for `seconds`, second by second on the manual clock (the
        /// windows expect time to move forward): `rate` calls per second, a
        /// `failing` share of them failures, a `slow` share of them taking `slowLatency`.
        func traffic(
            _ seconds: Int, rate: Double, failing: Double = 0, latency: Double = 0.05, slow: Double = 0,
            slowLatency: Double = 0.4
        ) {
            var carried = 0.0
            var failures = 0.0
            var slowCalls = 0.0
            for _ in 0..<seconds {
                fixture.advance(.seconds(1))
                carried += rate
                while carried >= 1 {
                    carried -= 1
                    failures += failing
                    slowCalls += slow
                    let failed = failures >= 1
                    if failed { failures -= 1 }
                    let isSlow = slowCalls >= 1
                    if isSlow { slowCalls -= 1 }
                    fixture.pipeline.windows.record(
                        failed ? .failure : .success, latency: Int64((isSlow ? slowLatency : latency) * 1e9), now: now)
                }
            }
        }

        /// `times` rounds of `step` seconds of traffic, each followed by a tick.
        func run(
            _ times: Int, every step: Int, rate: Double = 0, failing: Double = 0, latency: Double = 0.05,
            slow: Double = 0
        ) async {
            for _ in 0..<times {
                traffic(step, rate: rate, failing: failing, latency: latency, slow: slow)
                await engine.tick()
            }
        }

        func value(_ name: String) throws -> Double { try fixture.value(name) }
    }

    // MARK: retry tuning

    @Test func retryTuningCutsRetriesUnderSustainedErrorsAndRestoresThem() async throws {
        let harness = try await Harness("retry_tuning.lua")
        let delay = try harness.value("checkout.retry.base_delay")
        await harness.run(2, every: 5, rate: 10, failing: 0.8)
        #expect(try harness.value("checkout.retry.max_attempts") == 3)  // two evaluations are not enough
        await harness.run(1, every: 5, rate: 10, failing: 0.8)
        #expect(try harness.value("checkout.retry.max_attempts") == 1)
        #expect(try harness.value("checkout.retry.base_delay") == delay * 4)
        let entry = try #require(harness.fixture.plane.audit.last)
        #expect(entry.reason == "error rate high: retries would pile on")
        #expect(entry.evidence?["threshold"] == .double(0.3))
        // Calm: the failures leave the 1m window, and after six calm evaluations retries come back.
        await harness.run(24, every: 5, rate: 10)
        #expect(try harness.value("checkout.retry.max_attempts") == 3)
        #expect(try harness.value("checkout.retry.base_delay") == delay)
    }

    @Test func retryTuningIgnoresThinTraffic() async throws {
        let harness = try await Harness("retry_tuning.lua")
        await harness.run(10, every: 5, rate: 0.4, failing: 1)
        #expect(try harness.value("checkout.retry.max_attempts") == 3)
        #expect(!harness.fixture.plane.audit.entries.contains { $0.action == "param.set" })
    }

    // MARK: breaker guard

    @Test func breakerGuardOpensOnSustainedFailuresAndClosesWithCare() async throws {
        let harness = try await Harness("breaker_guard.lua")
        // 45% errors: under the breaker's own 50% threshold, over the guard's 40%.
        await harness.run(3, every: 10, rate: 10, failing: 0.45)
        #expect(harness.fixture.pipeline.breaker?.state == .closed)
        await harness.run(1, every: 10, rate: 10, failing: 0.45)
        #expect(harness.fixture.pipeline.breaker?.state == .open)
        #expect(harness.fixture.plane.audit.last?.action == "breaker.force_open")
        // After the 60 s cool-off, with the failures gone, it resets the breaker.
        await harness.run(7, every: 10)
        #expect(harness.fixture.pipeline.breaker?.state == .closed)
        #expect(harness.fixture.plane.audit.entries.contains { $0.action == "breaker.reset" && $0.outcome == .applied })
    }

    @Test func breakerGuardReopensForLongerWhenFailuresReturn() async throws {
        let harness = try await Harness("breaker_guard.lua")
        await harness.run(4, every: 10, rate: 10, failing: 0.45)
        await harness.run(6, every: 10)
        #expect(harness.fixture.pipeline.breaker?.state == .closed)
        // Failures come straight back after the reset: open again.
        await harness.run(1, every: 10, rate: 10, failing: 0.9)
        #expect(harness.fixture.pipeline.breaker?.state == .open)
        let reopen = try #require(harness.fixture.plane.audit.last)
        #expect(reopen.action == "breaker.force_open")
        #expect(reopen.reason == "failures returned after closing")
        // The second cool-off is twice as long: still open after 60 s, reset after 120 s.
        await harness.run(6, every: 10)
        #expect(harness.fixture.pipeline.breaker?.state == .open)
        await harness.run(6, every: 10)
        #expect(harness.fixture.pipeline.breaker?.state == .closed)
    }

    @Test func breakerGuardLeavesAHealthyOrQuietPipelineAlone() async throws {
        let harness = try await Harness("breaker_guard.lua")
        await harness.run(10, every: 10, rate: 10, failing: 0.05)
        let quiet = try await Harness("breaker_guard.lua")
        await quiet.run(10, every: 10, rate: 0.5, failing: 1)
        #expect(harness.fixture.pipeline.breaker?.state == .closed)
        #expect(quiet.fixture.pipeline.breaker?.state == .closed)
        #expect(!harness.fixture.plane.audit.entries.contains { $0.action.hasPrefix("breaker.") })
        #expect(!quiet.fixture.plane.audit.entries.contains { $0.action.hasPrefix("breaker.") })
    }

    // MARK: bulkhead growth

    @Test func bulkheadGrowsWhenBusyAndLatencyHolds() async throws {
        let harness = try await Harness("bulkhead_growth.lua")
        let gate = try #require(harness.fixture.pipeline.bulkhead)
        for _ in 0..<9 { _ = gate.tryAcquire() }
        await harness.run(1, every: 15, rate: 5)
        #expect(try harness.value("checkout.bulkhead.max_concurrent") == 13)
        // Cooldown: not again within a minute.
        await harness.run(1, every: 15, rate: 5)
        #expect(try harness.value("checkout.bulkhead.max_concurrent") == 13)
    }

    @Test func bulkheadShrinksWhenLatencyDegrades() async throws {
        let harness = try await Harness("bulkhead_growth.lua")
        harness.traffic(840, rate: 10)
        await harness.run(1, every: 15, rate: 10, slow: 0.5)
        #expect(try harness.value("checkout.bulkhead.max_concurrent") == 7)
    }

    @Test func idleBulkheadStaysPut() async throws {
        let idle = try await Harness("bulkhead_growth.lua")
        await idle.run(8, every: 15, rate: 5)
        #expect(try idle.value("checkout.bulkhead.max_concurrent") == 10)
    }

    // MARK: anomaly alerts

    @Test func anomalyAlertFiresOnAJumpOnce() async throws {
        let harness = try await Harness("anomaly_alerts.lua")
        harness.traffic(840, rate: 2, failing: 0.01)
        await harness.run(3, every: 10, rate: 10, failing: 0.5)
        let alerts = harness.alerts.alerts.filter { $0.message == "checkout: error rate jumped" }
        #expect(alerts.count == 1)
        #expect(alerts.first?.severity == .warning)
        #expect(alerts.first?.source == "script:anomaly-alerts")
        #expect(alerts.first?.fields["baseline_window"] == "15m")
    }

    @Test func anomalyAlertStaysQuietOnSteadyTraffic() async throws {
        let steady = try await Harness("anomaly_alerts.lua")
        await steady.run(12, every: 10, rate: 10, failing: 0.02, slow: 0.005)
        #expect(steady.alerts.alerts.isEmpty)
    }

    @Test func everyShippedPolicyPassesTheCheck() async throws {
        for file in ["retry_tuning.lua", "breaker_guard.lua", "bulkhead_growth.lua", "anomaly_alerts.lua"] {
            let engine = ScriptEngine(plane: ControlPlane(registry: ParameterRegistry()), logger: .silent, sample: true)
            let result = await engine.load(path: "policies/\(file)", source: try Self.source(file))
            #expect(throws: Never.self) { try result.get() }
        }
    }
}
