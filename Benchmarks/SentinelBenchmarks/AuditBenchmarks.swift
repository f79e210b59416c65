// Audit and persistence figures. The budget: an audit append to file at
// most 10 µs amortized. Each benchmark reports time per scaled iteration (one
// entry, one parse, one save); see docs/control-plane-audit.md, "Capacity".
import Benchmark
import Sentinel

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A typical applied `param.set` from a script, with evidence.
private let typicalEntry = AuditEntry(
    time: 1_795_459_500.123, actor: "script:shed-retries", action: "param.set",
    target: "checkout.retry.max_attempts", args: ["param": "checkout.retry.max_attempts", "value": 1],
    outcome: .applied, reason: "error rate high",
    evidence: ["window": "1m", "error_rate": 0.42, "calls": 812, "threshold": 0.3],
    correlationID: "shed-retries#1042")

/// A state with `count` knobs, half of them with a shadow value.
private func state(knobs count: Int) -> PersistedState {
    var parameters: [String: PersistedParameter] = [:]
    for index in 0..<count {
        parameters["pipeline\(index / 6).policy\(index % 6).knob"] = PersistedParameter(
            value: Double(index) * 0.25, shadow: index % 2 == 0 ? Double(index) * 0.5 : nil)
    }
    return PersistedState(savedAt: 1_795_459_500.123, parameters: parameters, frozen: false)
}

/// A fresh directory under the system's temporary folder for the files the benchmarks write.
private func scratchDirectory() -> String {
    var template = Array("/tmp/sentinel-bench-XXXXXX".utf8CString)
    guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
        fatalError("mkdtemp failed: errno \(errno)")
    }
    return String(cString: made)
}

/// Declares the audit and state-file benchmarks; call it from the target's `benchmarks` closure.
func auditBenchmarks() {
    let directory = scratchDirectory()
    let line = typicalEntry.jsonLine()
    let thousandKnobs = state(knobs: 1000)

    // MARK: - Encoding and parsing

    Benchmark("audit: encode one entry to a JSON line", configuration: .init(scalingFactor: .kilo)) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(typicalEntry.jsonLine()) }
    }

    Benchmark("audit: parse one JSON line back to an entry", configuration: .init(scalingFactor: .kilo)) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try AuditEntry(jsonLine: line)) }
    }

    Benchmark("json: write a 1,000-knob state, pretty", configuration: .init(scalingFactor: .one)) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(thousandKnobs.jsonValue.jsonString(style: .pretty)) }
    }

    // MARK: - Appending

    Benchmark("audit: append, memory only", configuration: .init(scalingFactor: .kilo)) { benchmark in
        let log = AuditLog()
        for _ in benchmark.scaledIterations { log.append(typicalEntry) }
        blackHole(log)
    }

    Benchmark("audit: append to file, fsync once a second (default)", configuration: .init(scalingFactor: .kilo)) {
        benchmark in
        let sink = try AuditFileSink(.init(path: "\(directory)/default.jsonl"), logger: silent)
        let log = AuditLog(sinks: [sink])
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { log.append(typicalEntry) }
        benchmark.stopMeasurement()
        log.close()
        unlink("\(directory)/default.jsonl")
    }

    Benchmark("audit: append to file, fsync never", configuration: .init(scalingFactor: .kilo)) { benchmark in
        let sink = try AuditFileSink(.init(path: "\(directory)/never.jsonl", fsync: .never), logger: silent)
        let log = AuditLog(sinks: [sink])
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { log.append(typicalEntry) }
        benchmark.stopMeasurement()
        log.close()
        unlink("\(directory)/never.jsonl")
    }

    Benchmark("audit: append to file, fsync every entry", configuration: .init(scalingFactor: .one, maxIterations: 2000)) {
        benchmark in
        let sink = try AuditFileSink(.init(path: "\(directory)/always.jsonl", fsync: .always), logger: silent)
        let log = AuditLog(sinks: [sink])
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { log.append(typicalEntry) }
        benchmark.stopMeasurement()
        log.close()
        unlink("\(directory)/always.jsonl")
    }

    // MARK: - State file

    Benchmark(
        "state file: save 1,000 knobs (write, fsync, rename, fsync dir)", configuration: .init(scalingFactor: .one, maxIterations: 500)
    ) {
        benchmark in
        let file = StateFile(path: "\(directory)/state.json")
        for _ in benchmark.scaledIterations { try file.save(thousandKnobs) }
    }

    Benchmark("state file: load 1,000 knobs", configuration: .init(scalingFactor: .one)) { benchmark in
        let file = StateFile(path: "\(directory)/load.json")
        try file.save(thousandKnobs)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(try file.load()) }
    }
}
