import Testing

@testable import Resilience

@Suite struct CircuitBreakerTests {
    let settings = BreakerSettings(
        failureRateThreshold: 0.5, slowCallRateThreshold: 1, slowCallDuration: 10 * second,
        minimumCalls: 4, openDuration: 10 * second, openDurationMultiplier: 2,
        maxOpenDuration: 25 * second, halfOpenCalls: 2)

    func tripped(_ core: inout CircuitBreakerCore, at now: Int64) {
        for _ in 0..<4 {
            let (decision, _) = core.decide(now: now, settings: settings)
            #expect(decision.isPermitted)
            _ = core.record(failure: true, latency: millisecond, trial: false, now: now, settings: settings)
        }
    }

    @Test func opensAtTheFailureRateOnceMinimumCallsAreIn() {
        var core = CircuitBreakerCore(window: .count(10))
        for i in 0..<3 {
            _ = core.decide(now: 0, settings: settings)
            let transition = core.record(failure: true, latency: 1, trial: false, now: Int64(i), settings: settings)
            #expect(transition == nil)
        }
        _ = core.decide(now: 0, settings: settings)
        let transition = core.record(failure: true, latency: 1, trial: false, now: 3, settings: settings)
        #expect(transition == BreakerTransition(from: .closed, to: .open, at: 3))
        let (decision, _) = core.decide(now: 5 * second, settings: settings)
        #expect(decision == .rejected(retryAfter: 10 * second + 3 - 5 * second))
    }

    @Test func halfOpenTrialsCloseOrReopenWithGrowingOpenTime() {
        var core = CircuitBreakerCore(window: .count(10))
        tripped(&core, at: 0)
        // After 10 s: half-open, two trials.
        var (decision, transition) = core.decide(now: 10 * second, settings: settings)
        #expect(transition?.to == .halfOpen)
        #expect(decision == .permitted(trial: true))
        (decision, _) = core.decide(now: 10 * second, settings: settings)
        #expect(decision == .permitted(trial: true))
        (decision, _) = core.decide(now: 10 * second, settings: settings)
        #expect(!decision.isPermitted)
        _ = core.record(failure: true, latency: 1, trial: true, now: 10 * second, settings: settings)
        let reopened = core.record(failure: true, latency: 1, trial: true, now: 10 * second, settings: settings)
        #expect(reopened?.to == .open)
        // Second opening: 20 s.
        #expect(core.openUntil == 30 * second)
        _ = core.decide(now: 30 * second, settings: settings)
        _ = core.decide(now: 30 * second, settings: settings)
        _ = core.record(failure: true, latency: 1, trial: true, now: 30 * second, settings: settings)
        _ = core.record(failure: true, latency: 1, trial: true, now: 30 * second, settings: settings)
        // Third opening: 40 s capped at 25 s.
        #expect(core.openUntil == 55 * second)
        _ = core.decide(now: 55 * second, settings: settings)
        _ = core.decide(now: 55 * second, settings: settings)
        _ = core.record(failure: false, latency: 1, trial: true, now: 55 * second, settings: settings)
        let closed = core.record(failure: false, latency: 1, trial: true, now: 55 * second, settings: settings)
        #expect(closed?.to == .closed)
        #expect(core.window.calls == 0)
        #expect(core.consecutiveOpenings == 0)
    }

    @Test func reconfiguringWhileHalfOpenKeepsStateAndTrials() {
        var core = CircuitBreakerCore(window: .count(10))
        tripped(&core, at: 0)
        var loose = settings
        loose.halfOpenCalls = 4
        _ = core.decide(now: 10 * second, settings: loose)
        _ = core.decide(now: 10 * second, settings: loose)
        _ = core.record(failure: false, latency: 1, trial: true, now: 10 * second, settings: loose)
        #expect(core.state == .halfOpen)
        #expect(core.trialsAdmitted == 2 && core.trialsRecorded == 1)
        // Threshold changes: state and trial counts stay.
        var stricter = loose
        stricter.failureRateThreshold = 0.2
        let (decision, _) = core.decide(now: 10 * second, settings: stricter)
        #expect(decision == .permitted(trial: true))
        #expect(core.state == .halfOpen && core.trialsAdmitted == 3 && core.trialsRecorded == 1)
        // Fewer trials needed now: the next decision judges the trials already in.
        var fewer = stricter
        fewer.halfOpenCalls = 1
        let (_, transition) = core.decide(now: 11 * second, settings: fewer)
        #expect(transition?.to == .closed)
    }

    @Test func slowCallsOpenTheBreaker() {
        var core = CircuitBreakerCore(window: .count(10))
        var slow = settings
        slow.slowCallRateThreshold = 0.5
        slow.slowCallDuration = 100 * millisecond
        var last: BreakerTransition?
        for _ in 0..<4 {
            _ = core.decide(now: 0, settings: slow)
            last = core.record(failure: false, latency: 200 * millisecond, trial: false, now: 0, settings: slow)
        }
        #expect(last?.to == .open)
    }

    @Test func timeWindowForgetsOldCalls() {
        var core = CircuitBreakerCore(window: .time(seconds: 5))
        for s in 0..<3 {
            _ = core.record(failure: true, latency: 1, trial: false, now: Int64(s) * second, settings: settings)
        }
        #expect(core.window.calls == 3)
        _ = core.record(failure: false, latency: 1, trial: false, now: 10 * second, settings: settings)
        #expect(core.window.calls == 1 && core.window.failures == 0)
        #expect(core.state == .closed)
    }

    @Test func forcedOpenClosedResetAndMetricsOnly() {
        var core = CircuitBreakerCore(window: .count(10))
        #expect(core.forceOpen(now: 0)?.to == .open)
        #expect(!core.decide(now: 1000 * second, settings: settings).0.isPermitted)
        #expect(core.reset(now: 0)?.to == .closed)
        _ = core.forceClosed(now: 0)
        tripped(&core, at: 0)
        #expect(core.state == .closed)
        _ = core.reset(now: 0)
        core.setMetricsOnly(true)
        tripped(&core, at: 0)
        #expect(core.state == .closed)
        #expect(core.window.failures == 4)
    }

    @Test func pipelineBreakerChangesKnobsWithoutLosingItsWindow() async throws {
        let events = EventStream(capacity: 16)
        let (pipeline, _, registry) = try manualPipeline(events: events) {
            CircuitBreaker(failureRate: 0.5, minimumCalls: 10, window: .count(20), openDuration: .seconds(5))
        }
        for _ in 0..<6 {
            _ = try? await pipeline.execute { () async throws -> Int in throw BackendError() }
        }
        #expect(pipeline.breaker?.windowCounts.calls == 6)
        try registry.set("checkout.breaker.minimum_calls", 7)
        #expect(pipeline.breaker?.windowCounts.calls == 6)
        #expect(pipeline.breaker?.state == .closed)
        _ = try? await pipeline.execute { () async throws -> Int in throw BackendError() }
        #expect(pipeline.breaker?.state == .open)
        do {
            _ = try await pipeline.execute { 1 }
            Issue.record("open breaker let a call through")
        } catch let error as ResilienceError {
            #expect(error.code == .circuitOpen)
            #expect(error.retryAfter == .seconds(5))
        }
        let stats = pipeline.windows.stats(.tenSeconds, now: pipeline.time.now())
        #expect(stats.calls == 8 && stats.rejections == 1 && stats.breakerRejections == 1)
        events.finish()
        var transitions: [CircuitState] = []
        for await event in events.events {
            if case .breakerTransition(_, let to) = event.kind { transitions.append(to) }
        }
        #expect(transitions == [.open])
    }
}
