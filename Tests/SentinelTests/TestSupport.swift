import Resilience
import Synchronization

@testable import Sentinel

/// A checkout pipeline with every policy, on a manual clock, in its own registry.
struct Fixture {
    let registry = ParameterRegistry()
    let clock = ManualClock()
    let pipeline: Pipeline
    let plane: ControlPlane

    init(access: AccessPolicy = AccessPolicy(), guards: GuardPolicy = GuardPolicy(), epoch: Double = 1_800_000_000) throws {
        let time = ClockTimeSource(clock)
        pipeline = try Pipeline("checkout", registry: registry, time: time, seed: 1) {
            Timeout(.milliseconds(500))
            Retry(maxAttempts: 3)
            CircuitBreaker()
            Bulkhead(maxConcurrent: 10)
            RateLimit(rate: 100)
            TrafficSplit([("stable", 100), ("canary", 0)])
        }
        plane = ControlPlane(registry: registry, access: access, guards: guards, time: time, epoch: epoch)
    }

    func set(
        _ parameter: String, _ value: JSONValue, as identity: Identity = .script("rule"),
        position: Int? = nil, key: String? = nil, dryRun: Bool = false
    ) async -> CommandOutcome {
        await plane.execute(
            "param.set", ["param": .string(parameter), "value": value],
            context: CommandContext(
                identity: identity, source: "test", reason: "because", idempotencyKey: key,
                dryRun: dryRun, positionInEvaluation: position))
    }

    func value(_ parameter: String) throws -> Double { try registry.value(parameter) }

    func advance(_ duration: Duration) { clock.advance(by: duration) }
}

/// A trial runner on `fixture`'s plane with its commands registered, and a
/// script engine that sees its trials, running `source` as `trial.lua`.
func scriptedTrials(_ fixture: Fixture, source: String) async throws -> (TrialRunner, ScriptEngine) {
    let trials = TrialRunner(plane: fixture.plane, logger: .silent)
    trials.registerCommands()
    let engine = ScriptEngine(plane: fixture.plane, logger: .silent, trials: { trials.stateView() })
    _ = try await engine.load(path: "trial.lua", source: source).get()
    return (trials, engine)
}
