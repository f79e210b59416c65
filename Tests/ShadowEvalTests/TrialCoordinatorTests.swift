import Resilience
import ShadowEval
import Testing

@Suite struct TrialCoordinatorTests {
    let timeout = "checkout.timeout.duration"
    let attempts = "checkout.retry.max_attempts"

    func setUp() throws -> (ParameterRegistry, CountingStore, RecordingSink, TrialCoordinator) {
        let registry = ParameterRegistry()
        _ = try Pipeline("checkout", registry: registry, time: ClockTimeSource(ManualClock())) {
            Timeout(.milliseconds(500))
            Retry(maxAttempts: 3)
        }
        let store = CountingStore(registry)
        let sink = RecordingSink()
        return (registry, store, sink, TrialCoordinator(store: store, sink: sink))
    }

    func twoKnobTrial() -> TrialConfiguration {
        configuration(params: [timeout: 0.3, attempts: 2])
    }

    @Test func promotionIsOneAtomicRegistryChange() throws {
        let (registry, store, sink, coordinator) = try setUp()
        try coordinator.start(twoKnobTrial(), now: 0)
        #expect(try registry.parameter(timeout).shadow == 0.3)
        #expect(try registry.parameter(attempts).shadow == 2)
        #expect(try registry.value(timeout) == 0.5)
        #expect(try registry.value(attempts) == 3)
        for t in stride(from: 10, through: 50, by: 10) {
            try coordinator.evaluate("tighter", now: seconds(Int64(t)), live: liveStats, shadow: betterShadow)
        }
        let batchesBefore = store.applied.count
        let trial = try coordinator.evaluate("tighter", now: seconds(60), live: liveStats, shadow: betterShadow)
        #expect(trial.status == .watching)
        // Exactly one batch, holding both promotions.
        #expect(store.applied.count == batchesBefore + 1)
        #expect(store.applied.last == [.promote(attempts), .promote(timeout)])
        #expect(try registry.value(timeout) == 0.3)
        #expect(try registry.value(attempts) == 2)
        #expect(try registry.parameter(timeout).shadow == nil)
        #expect(try registry.parameter(attempts).shadow == nil)
        #expect(sink.events.map(\.kind) == [.started, .promoted])
        #expect(sink.events.last?.status == .watching)
    }

    @Test func rollbackRestoresEveryKnobInOneChange() throws {
        let (registry, store, sink, coordinator) = try setUp()
        try coordinator.start(twoKnobTrial(), now: 0)
        for t in stride(from: 10, through: 60, by: 10) {
            try coordinator.evaluate("tighter", now: seconds(Int64(t)), live: liveStats, shadow: betterShadow)
        }
        let batchesBefore = store.applied.count
        let trial = try coordinator.evaluate(
            "tighter", now: seconds(70), live: stats(calls: 1000, failures: 80), shadow: .zero)
        #expect(trial.status == .rolledBack)
        #expect(store.applied.count == batchesBefore + 1)
        #expect(store.applied.last == [.set(attempts, 3), .set(timeout, 0.5)])
        #expect(try registry.value(timeout) == 0.5)
        #expect(try registry.value(attempts) == 3)
        #expect(sink.events.last?.kind == .rolledBack)
    }

    @Test func aRefusedShadowAppliesNothing() throws {
        let (registry, _, sink, coordinator) = try setUp()
        // 0 attempts is out of bounds (1...100): the timeout's shadow must not be set either.
        #expect(throws: TrialError.self) {
            try coordinator.start(configuration(params: [timeout: 0.3, attempts: 0]), now: 0)
        }
        #expect(try registry.parameter(timeout).shadow == nil)
        #expect(try registry.parameter(attempts).shadow == nil)
        #expect(coordinator.trial(named: "tighter") == nil)
        #expect(sink.events.isEmpty)
    }

    @Test func abortClearsEveryShadow() throws {
        let (registry, _, sink, coordinator) = try setUp()
        try coordinator.start(twoKnobTrial(), now: 0)
        #expect(throws: TrialError.duplicateName("tighter")) { try coordinator.start(twoKnobTrial(), now: 1) }
        let trial = try coordinator.abort("tighter", now: seconds(5), reason: "by command")
        #expect(trial.status == .aborted)
        #expect(try registry.parameter(timeout).shadow == nil)
        #expect(try registry.parameter(attempts).shadow == nil)
        #expect(try registry.value(timeout) == 0.5)
        #expect(sink.events.map(\.kind) == [.started, .aborted])
        #expect(throws: TrialError.unknownTrial("other")) { try coordinator.abort("other", now: 0, reason: "x") }
    }
}
