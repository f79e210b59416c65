import Resilience
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Seeded mutations of the corpus and the shipped files through every
/// target: none may trap or hang, and every refusal names its file and line.
///
/// The suite runs a few hundred inputs per target (deterministic for the
/// seed). `make fuzz` runs many more: `SENTINEL_FUZZ_ITERATIONS` (inputs per
/// target), `SENTINEL_FUZZ_SECONDS` (a time budget per target, which ends the
/// loop early), `SENTINEL_FUZZ_SEED`, and `SENTINEL_FUZZ_SAVE` (a folder where
/// the input under test is written first, so a crash leaves it behind).
@Suite struct MutationFuzzTests {
    static func environment(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }

    @Test(arguments: FuzzTarget.allCases)
    func mutatedInputNeverCrashesAndRefusalsNameTheirLine(_ target: FuzzTarget) async throws {
        let iterations = Self.environment("SENTINEL_FUZZ_ITERATIONS").flatMap(Int.init) ?? (target == .scenario ? 150 : 300)
        let seconds = Self.environment("SENTINEL_FUZZ_SECONDS").flatMap(Double.init)
        let seed = Self.environment("SENTINEL_FUZZ_SEED").flatMap(UInt64.init) ?? 20_261_204
        let save = Self.environment("SENTINEL_FUZZ_SAVE")
        let seeds = target == .json ? Self.jsonSeeds() : target.seeds()
        try #require(!seeds.isEmpty)
        let runner = try FuzzRunner()
        var mutator = Mutator(seed: seed &+ UInt64(target.rawValue.utf8.count), dictionary: target.dictionary)
        let started = ContinuousClock.now
        var refused = 0
        for iteration in 0..<iterations {
            // The suites share a cooperative pool of one thread per core: let the others run.
            await Task.yield()
            if let seconds, ContinuousClock.now - started > .seconds(seconds) { break }
            let base = seeds[iteration % seeds.count]
            let other = seeds[mutator.below(seeds.count)].bytes
            let input = mutator.mutate(base.bytes, other: other)
            let path = "fuzz-\(iteration)" + (target == .script ? ".lua" : target == .json ? ".json" : ".yaml")
            if let save { FuzzFiles.write("\(save)/\(target).current", input) }
            if await runner.run(target, input, path: path, report: { Issue.record("input \(iteration) from \(base.path): \($0)") }) != nil {
                refused += 1
            }
        }
        // The mutations must exercise both sides: parsers that refuse everything test nothing.
        #expect(refused < iterations, "\(target): every mutated input was refused")
    }

    /// JSON seeds: a state file with trials and an audit line, made here.
    static func jsonSeeds() -> [(path: String, bytes: [UInt8])] {
        let state = """
            {"extensions":{},"frozen":true,"parameters":{"checkout.timeout.duration":{"shadow":0.3,"value":0.5}},\
            "saved_at":1800000000.5,"version":1,"trials":[{"name":"tighter","params":{"checkout.timeout.duration":0.3},\
            "window":60,"interval":10,"min_samples":20,"max_violations":3,"watch":300,"criteria":{"confidence":0.95},\
            "status":"watching","started_at":1799999000,"last_evaluation":1799999990,"violations":1,\
            "previous":{"checkout.timeout.duration":0.5},"evidence":{"reason":"x","p99":0.2},"held_since":1799999995,\
            "baseline":{"calls":100,"successes":99,"failures":1,"timeouts":0,"rejections":0,"breaker_rejections":0,\
            "bulkhead_rejections":0,"rate_limiter_rejections":0,"unknown":0,"error_rate":0.01,"p50":0.04,"p90":0.08,\
            "p99":0.2,"max":0.3},"baseline_latencies":{"12":40,"20":60},"max_duration":3600,"shadow_calls":12}]}
            """
        let audit = """
            {"action":"param.set","actor":"script:canary","args":{"param":"checkout.split.canary_weight","value":5},\
            "evidence":{"p":0.01},"outcome":"applied","reason":"step","target":"checkout.split.canary_weight",\
            "time":"2026-11-23T18:45:09.000Z"}
            """
        return [("state.json", Array(state.utf8)), ("audit.json", Array(audit.utf8))]
    }
}
