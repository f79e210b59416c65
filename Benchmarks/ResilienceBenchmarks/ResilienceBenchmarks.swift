import Benchmark
import Resilience

// Each benchmark reports time per scaled iteration (one call, read or record),
// measured against `raw call` in the same run. See docs/performance-resilience.md.

@inline(never)
func rawOperation(_ value: Int) async throws -> Int { value &+ 1 }

private let registry = ParameterRegistry()

private func makePipeline(_ name: String, @PolicyBuilder _ policies: () -> [PipelineComponent]) -> Pipeline {
    do {
        return try Pipeline(name, registry: registry, seed: 1, policies: policies)
    } catch {
        fatalError("benchmark pipeline \(name): \(error)")
    }
}

private func happyPath(_ name: String) -> Pipeline {
    makePipeline(name) {
        RateLimit(rate: 1e7, algorithm: .tokenBucket(burst: 1e7))
        Retry(maxAttempts: 3, budgetRatio: 0.2)
        CircuitBreaker(failureRate: 0.5, minimumCalls: 20)
        Bulkhead(maxConcurrent: 1000)
    }
}

private let plain = happyPath("plain")
private let shadowed: Pipeline = {
    let pipeline = happyPath("shadowed")
    // A shadow on every knob (looser than live, so no call is judged a rejection).
    let operations = pipeline.knobs.entries().map { info in
        KnobOperation.setShadow(
            info.name,
            min(
                info.maximum,
                max(info.minimum, info.value * 1.1 + (info.descriptor.kind == .integer ? 1 : 0)).rounded(
                    info.descriptor.kind == .integer ? .down : .toNearestOrEven)))
    }
    do { try registry.apply(operations) } catch { fatalError("shadows: \(error)") }
    return pipeline
}()
private let empty = makePipeline("empty") {}
private let enforced = makePipeline("enforced") { Timeout(.seconds(10)) }
private let cooperative = makePipeline("cooperative") { Timeout(.seconds(10), mode: .cooperative) }
private let windows = OutcomeWindows()
private let time = MonotonicTimeSource()

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .throughput],
        warmupIterations: 3,
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 200)

    // MARK: - Baselines

    Benchmark("raw call") { benchmark in
        for i in benchmark.scaledIterations { blackHole(try await rawOperation(i)) }
    }

    Benchmark("clock: MonotonicTimeSource.now") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(time.now()) }
    }

    Benchmark("clock: ContinuousClock.now") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(ContinuousClock.now) }
    }

    Benchmark("pipeline: no policies (execute + record)") { benchmark in
        for i in benchmark.scaledIterations {
            blackHole(try await empty.execute { try await rawOperation(i) })
        }
    }

    Benchmark("task-local: withValue around the call") { benchmark in
        let deadline = Deadline(instant: 1, source: time)
        for i in benchmark.scaledIterations {
            blackHole(try await Deadline.$current.withValue(deadline) { try await rawOperation(i) })
        }
    }

    // MARK: - Knobs and recording

    Benchmark("config: read whole pipeline snapshot") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(plain.knobs.read()) }
    }

    Benchmark("record: one outcome, 1 task", configuration: .init(scalingFactor: .mega)) { benchmark in
        let now = time.now()
        for i in benchmark.scaledIterations {
            windows.record(.success, latency: Int64(i & 0xFFFFF) &* 1000, now: now)
        }
    }

    Benchmark("record: one outcome each, 2 tasks at once", configuration: .init(scalingFactor: .mega)) { benchmark in
        let now = time.now()
        let count = benchmark.scaledIterations.count
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<2 {
                group.addTask {
                    for i in 0..<count { windows.record(.success, latency: Int64(i & 0xFFFFF) &* 1000, now: now) }
                }
            }
        }
    }

    // MARK: - Pipelines

    Benchmark("pipeline: ratelimit+retry+breaker+bulkhead") { benchmark in
        for i in benchmark.scaledIterations {
            blackHole(try await plain.execute { try await rawOperation(i) })
        }
    }

    Benchmark("pipeline: same, shadows on every knob") { benchmark in
        for i in benchmark.scaledIterations {
            blackHole(try await shadowed.execute { try await rawOperation(i) })
        }
    }

    Benchmark("timeout: cooperative") { benchmark in
        for i in benchmark.scaledIterations {
            blackHole(try await cooperative.execute { try await rawOperation(i) })
        }
    }

    Benchmark("timeout: enforced (task group, op + timer)", configuration: .init(scalingFactor: .one, maxIterations: 20000)) { benchmark in
        for i in benchmark.scaledIterations {
            blackHole(try await enforced.execute { try await rawOperation(i) })
        }
    }

    // MARK: - Child-task mechanisms (what an enforced timeout can be built on)

    Benchmark("child task: async let", configuration: .init(scalingFactor: .one, maxIterations: 20000)) { benchmark in
        for i in benchmark.scaledIterations {
            async let value = rawOperation(i)
            blackHole(try await value)
        }
    }

    Benchmark("child task: task group, 1 child", configuration: .init(scalingFactor: .one, maxIterations: 20000)) { benchmark in
        for i in benchmark.scaledIterations {
            let value = try await withThrowingTaskGroup(of: Int.self) { group in
                group.addTask { try await rawOperation(i) }
                return try await group.next()!
            }
            blackHole(value)
        }
    }

    Benchmark("child task: task group, op + timer, first wins", configuration: .init(scalingFactor: .one, maxIterations: 20000)) {
        benchmark in
        for i in benchmark.scaledIterations {
            let value = try await withThrowingTaskGroup(of: Int?.self) { group in
                group.addTask { try await rawOperation(i) }
                group.addTask {
                    try await ContinuousClock().sleep(for: .seconds(10))
                    return nil
                }
                let first = try await group.next()!
                group.cancelAll()
                return first
            }
            blackHole(value)
        }
    }
}
