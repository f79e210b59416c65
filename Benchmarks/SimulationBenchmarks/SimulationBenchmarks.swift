import Benchmark
import Logging
import Resilience
import Simulation

#if canImport(Glibc)
import Glibc
#endif

// The simulator against its floor: the same pipeline driven by hand through
// its simulated entry points, with no event queue, no backends and no
// scripts. See docs/performance.md.

/// One hour at 500 requests per second through timeout, retry, breaker and a
/// 90/10 split, with the canary recipe's script evaluated every 10 s.
let hourScenario = """
    name: hour
    duration: 1h
    sample: 5m
    pipelines:
      checkout:
        policies:
          - timeout: { duration: 2s }
          - retry: { max_attempts: 3, base_delay: 50ms }
          - breaker: { failure_rate: 0.5 }
          - split: { stable: 100, canary: 0 }
        backends:
          stable: { latency: { distribution: lognormal, p50: 40ms, p99: 200ms }, error_rate: 0.005 }
          canary: { latency: { distribution: lognormal, p50: 40ms, p99: 200ms }, error_rate: 0.005 }
        traffic: { rate: 500 }
    """

/// A folder holding the canary recipe's script (the benchmark runs from `Benchmarks/`).
let policies: String = {
    var template = Array("/tmp/sentinel-bench-XXXXXX".utf8CString)
    let folder = String(cString: template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!)! })
    let source = fopen("../examples/recipes/canary/canary.lua", "r")
    let target = fopen(folder + "/canary.lua", "w")
    if let source, let target {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = fread(&buffer, 1, buffer.count, source)
            if count == 0 { break }
            fwrite(buffer, 1, count, target)
        }
    }
    if let source { fclose(source) }
    if let target { fclose(target) }
    return folder
}()

struct BackendError: Error {}
let backendError: any Error = BackendError()

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        warmupIterations: 1,
        scalingFactor: .one,
        maxDuration: .seconds(20),
        maxIterations: 10)

    // Baseline: 1.8 million calls driven by hand through the same policies, one attempt
    // each at a fixed latency, no queue.
    Benchmark("raw pipeline: 1.8M simulated calls") { benchmark in
        for _ in benchmark.scaledIterations {
            let pipeline: Pipeline
            do {
                pipeline = try Pipeline("raw", registry: ParameterRegistry(), time: ClockTimeSource(ManualClock()), seed: 1) {
                    Timeout(.seconds(2))
                    Retry(maxAttempts: 3, baseDelay: .milliseconds(50))
                    CircuitBreaker(failureRate: 0.5)
                    TrafficSplit([("stable", 100), ("canary", 0)])
                }
            } catch {
                fatalError("\(error)")
            }
            var random = Xoshiro256StarStar(seed: 1)
            var now: Int64 = 0
            for _ in 0..<1_800_000 {
                now += 2_000_000  // 500 per second
                var (call, step) = pipeline.beginSimulatedCall(at: now)
                while true {
                    switch step {
                    case .run:
                        let fails = random.nextUnit() < 0.005
                        step = pipeline.finishAttempt(&call, error: fails ? backendError : nil, at: now + 40_000_000)
                    case .backoff(let until):
                        step = pipeline.resume(&call, at: until)
                    case .queued, .finished:
                        break
                    }
                    if case .run = step { continue }
                    if case .backoff = step { continue }
                    break
                }
            }
            blackHole(pipeline)
        }
    }

    Benchmark("simulate: 1h at 500 req/s with the canary script") { benchmark in
        for _ in benchmark.scaledIterations {
            do {
                let scenario = try Scenario(yaml: hourScenario, file: "hour.yaml")
                let simulation = try Simulation(
                    scenario: scenario, policies: policies, logger: Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() })
                let report = try await simulation.run { _ in }
                blackHole(report.simulatedCalls)
            } catch {
                fatalError("\(error)")
            }
        }
    }
}
