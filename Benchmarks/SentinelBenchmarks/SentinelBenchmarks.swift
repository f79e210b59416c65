// Observer, control plane and engine figures.
import Benchmark
import Logging
import Resilience
import Sentinel

let silent = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }

/// 1,000 pipelines with every policy, on a manual clock.
func thousandPipelines() throws -> (ParameterRegistry, ManualClock) {
    let registry = ParameterRegistry()
    let clock = ManualClock()
    let time = ClockTimeSource(clock)
    for index in 0..<1000 {
        let pipeline = try Pipeline("p\(index)", registry: registry, time: time, seed: UInt64(index)) {
            Timeout(.milliseconds(500))
            Retry(maxAttempts: 3)
            CircuitBreaker()
            Bulkhead(maxConcurrent: 10)
        }
        for call in 0..<20 {
            pipeline.windows.record(call % 7 == 0 ? .failure : .success, latency: 5_000_000, now: time.now())
        }
    }
    return (registry, clock)
}

let sentinelRule = """
    return { interval = "1s", evaluate = function(state, memory)
      for i = 0, 99, 10 do
        local w = state.pipelines["p" .. i].windows["1m"]
        if w.calls >= 10 and w.error_rate > 0.5 then
          sentinel.set("p" .. i .. ".retry.max_attempts", 1, "errors")
        end
      end
    end }
    """

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal], warmupIterations: 5, maxDuration: .seconds(2))

    auditBenchmarks()
    fleetStatisticsBenchmarks()

    Benchmark("observer: snapshot of 1,000 pipelines", configuration: .init(scalingFactor: .one)) { benchmark in
        let (registry, _) = try thousandPipelines()
        let observer = StateSnapshotter(registry: registry)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(observer.snapshot()) }
    }

    Benchmark("control plane: param.set with authorization, guards, in-memory audit", configuration: .init(scalingFactor: .kilo)) {
        benchmark in
        let (registry, clock) = try thousandPipelines()
        var configuration = ControlPlaneConfiguration()
        configuration.access.roles["tuner"] = Role(grants: [Grant(commands: ["param.*"], targets: ["*.retry.*"])])
        configuration.access.assignments["script:*"] = ["tuner"]
        configuration.guards.parameters = [ParameterGuard(pattern: "*.retry.max_attempts", minimum: 1, maximum: 10, maxStepUp: 5)]
        let plane = ControlPlane(registry: registry, time: ClockTimeSource(clock), epoch: 0)
        plane.configure(configuration)
        let context = CommandContext(identity: .script("tuner"), source: "lua", reason: "bench")
        var value: Int64 = 1
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            value = value % 5 + 1
            blackHole(await plane.execute("param.set", ["param": "p7.retry.max_attempts", "value": .int(value)], context: context))
        }
    }

    Benchmark("baseline: registry.set of one knob, no control plane", configuration: .init(scalingFactor: .kilo)) { benchmark in
        let (registry, _) = try thousandPipelines()
        var value: Double = 1
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            value = value.truncatingRemainder(dividingBy: 5) + 1
            try registry.set("p7.retry.max_attempts", value)
        }
    }

    Benchmark("engine: a tick of 10 scripts over 1,000 pipelines", configuration: .init(scalingFactor: .one)) { benchmark in
        let (registry, clock) = try thousandPipelines()
        let plane = ControlPlane(registry: registry, time: ClockTimeSource(clock), epoch: 0)
        let engine = ScriptEngine(plane: plane, logger: silent)
        for index in 0..<10 {
            _ = try await engine.load(path: "bench/rule\(index).lua", source: sentinelRule).get()
        }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            clock.advance(by: .seconds(1))
            blackHole(await engine.tick())
        }
    }
}
