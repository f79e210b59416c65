import MetricsTestKit
import Resilience
import Testing

@testable import Sentinel

#if canImport(Glibc)
import Glibc
#endif

/// Metrics, restore reports, alert files, pause, and memory across reloads.
@Suite struct OperationsTests {
    @Test func snapshotIsReportedThroughSwiftMetrics() async throws {
        let fixture = try Fixture()
        fixture.advance(.seconds(1))
        for index in 0..<10 {
            fixture.pipeline.windows.record(index < 3 ? .failure : .success, latency: 20_000_000, now: fixture.pipeline.time.now())
        }
        _ = await fixture.set("checkout.retry.max_attempts", 2)
        let metrics = TestMetrics()
        StateMetricsReporter(factory: metrics).report(StateSnapshotter(registry: fixture.registry).snapshot())
        let calls = try metrics.expectGauge("sentinel_pipeline_calls", [("pipeline", "checkout"), ("window", "1m")])
        #expect(calls.lastValue == 10)
        let errors = try metrics.expectGauge("sentinel_pipeline_error_rate", [("pipeline", "checkout"), ("window", "10s")])
        #expect(abs((errors.lastValue ?? 0) - 0.3) < 1e-9)
        let p99 = try metrics.expectGauge(
            "sentinel_pipeline_latency_seconds", [("pipeline", "checkout"), ("window", "1m"), ("quantile", "0.99")])
        #expect(abs((p99.lastValue ?? 0) - 0.02) / 0.02 < 0.02)
        #expect(try metrics.expectGauge("sentinel_knob_value", [("knob", "checkout.retry.max_attempts")]).lastValue == 2)
        #expect(try metrics.expectGauge("sentinel_breaker_state", [("pipeline", "checkout")]).lastValue == 0)
        #expect(try metrics.expectGauge("sentinel_bulkhead_capacity", [("pipeline", "checkout")]).lastValue == 10)
    }

    @Test func restoreReportsWhatItCannotApply() throws {
        let fixture = try Fixture()
        let saved = PersistedState(
            version: PersistedState.currentVersion, savedAt: 0,
            parameters: [
                "checkout.retry.max_attempts": PersistedParameter(value: 4),
                "checkout.timeout.duration": PersistedParameter(value: 0.5, shadow: 0.3),
                "gone.retry.max_attempts": PersistedParameter(value: 2),
                "checkout.split.canary_weight": PersistedParameter(value: 250),
            ],
            frozen: false, trials: .object([:]), extensions: [:])
        let problems = fixture.plane.restore(saved)
        #expect(try fixture.value("checkout.retry.max_attempts") == 4)
        #expect(try fixture.registry.parameter("checkout.timeout.duration").shadow == 0.3)
        #expect(problems.count == 2)
        #expect(
            problems.contains { $0.hasPrefix("gone.retry.max_attempts: saved value 2.0 not applied: the knob is no longer registered") })
        #expect(problems.contains { $0.hasPrefix("checkout.split.canary_weight: saved value not applied") })
        #expect(try fixture.value("checkout.split.canary_weight") == 0)
    }

    @Test func alertsAreWrittenAsJSONLines() async throws {
        let folder = ScriptFolder()
        let sink = try JSONLinesAlertSink(path: folder.path + "/alerts.jsonl")
        await sink.send(
            Alert(
                time: 1_800_000_000.25, source: "script:anomaly", severity: .warning, message: "p99 jumped",
                fields: ["p99": 0.84]))
        let file = try ScriptFile.read(path: folder.path + "/alerts.jsonl").get()
        #expect(
            String(decoding: file.contents, as: UTF8.self)
                == #"{"fields":{"p99":0.84},"message":"p99 jumped","severity":"warning","source":"script:anomaly","time":"2027-01-15T08:00:00.250Z"}"#
                + "\n")
        #expect(throws: ConfigurationError.self) { _ = try JSONLinesAlertSink(path: "/nonexistent/dir/alerts.jsonl") }
    }

    @Test func pausedScriptIsSkippedUntilResumed() async throws {
        let fixture = try Fixture()
        let engine = ScriptEngine(plane: fixture.plane, logger: .silent)
        try fixture.plane.register(ScriptPauseCommand(engine: engine))
        try fixture.plane.register(ScriptResumeCommand(engine: engine))
        await engine.load(path: "p/tick.lua", source: "return { name = 'tick', interval = '1s', evaluate = function() end }")
        let pause = await fixture.plane.execute("script.pause", ["name": "tick"], context: .init(identity: .script("other")))
        #expect(pause.outcome == .applied)
        fixture.advance(.seconds(3))
        #expect(await engine.tick().evaluated.isEmpty)
        let unknown = await fixture.plane.execute("script.pause", ["name": "ghost"], context: .init(identity: .operator("o")))
        #expect(unknown.outcome == .rejected)
        #expect(unknown.error?.message == "script.pause: no script named 'ghost'")
        _ = await fixture.plane.execute("script.resume", ["name": "tick"], context: .init(identity: .operator("o")))
        #expect(await engine.tick().evaluated == ["tick"])
    }

    @Test func memorySurvivesAReloadUnlessFreshIsAsked() async throws {
        let fixture = try Fixture()
        let engine = ScriptEngine(plane: fixture.plane, logger: .silent)
        let counting = { (fresh: Bool, value: Int) in
            """
            return { name = 'count', interval = '1s', fresh_memory = \(fresh), evaluate = function(state, memory)
              memory.n = (memory.n or 0) + 1
              sentinel.set('checkout.retry.max_attempts', memory.n + \(value))
            end }
            """
        }
        await engine.load(path: "p/count.lua", source: counting(false, 0))  // the validation run leaves memory as it was
        fixture.advance(.seconds(1))
        await engine.tick()  // n = 1
        #expect(try fixture.value("checkout.retry.max_attempts") == 1)
        await engine.load(path: "p/count.lua", source: counting(false, 10))  // keeps memory
        fixture.advance(.seconds(1))
        await engine.tick()  // n = 2
        #expect(try fixture.value("checkout.retry.max_attempts") == 12)
        await engine.load(path: "p/count.lua", source: counting(true, 20))  // fresh memory
        fixture.advance(.seconds(1))
        await engine.tick()  // n = 1
        #expect(try fixture.value("checkout.retry.max_attempts") == 21)
    }
}
