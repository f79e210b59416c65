import Resilience
import ScriptHost
import ShadowEval

/// `sentinel.compare{...}`: the shadow trials' statistical judge, for rules
/// that compare two sides of a pipeline themselves (a canary against stable,
/// the shadow against live).
///
/// ```lua
/// local verdict, evidence = sentinel.compare{
///   pipeline = "checkout", candidate = "canary", reference = "stable", window = "5m",
///   min_samples = 1000, criteria = { error_rate = false, p99 = { relative = 0.2 }, confidence = 0.99 },
/// }
/// -- verdict: "pass", "violation" or "inconclusive"; evidence.violated: "p99,latency_shift"
/// ```
///
/// A side is a traffic-split variant's name, `"live"` or `"shadow"`. With
/// `since = NAME` instead of `window`, both sides are judged on everything
/// since the script's mark NAME (`sentinel.mark`). Latency
/// is judged on the windows' histograms (tail test per percentile, rank test),
/// so a percentile beyond its tolerance is a violation only when it is more
/// than noise at the stated confidence.
extension ScriptAPI {
    static let compareFields: Set<String> = [
        "pipeline", "candidate", "reference", "window", "since", "mode", "min_samples", "criteria",
    ]

    func installCompare(in sandbox: LuaSandbox) throws(ScriptError) {
        try sandbox.register("compare", in: "sentinel") { [unowned self] arguments in
            try arguments.expectCount(1...1)
            let spec = try arguments.table(1)
            for key in spec.keys {
                guard case .string(let field) = key, Self.compareFields.contains(field) else {
                    throw arguments.bad(
                        1, "unknown field '\(key)' (expected one of: \(Self.compareFields.sorted().joined(separator: ", ")))")
                }
            }
            func text(_ field: String, default fallback: String? = nil) throws(LuaArgumentError) -> String {
                switch spec[.string(field)] {
                case .string(let value)? where !value.isEmpty: return value
                case nil, .nil?:
                    if let fallback { return fallback }
                    throw arguments.bad(1, "'\(field)' is missing (a string)")
                case let other?: throw arguments.bad(1, "'\(field)' must be a non-empty string, got \(other.typeName)")
                }
            }
            let pipelineName = try text("pipeline")
            let candidate = try text("candidate")
            let reference = try text("reference")
            let since = try text("since", default: "")
            if !since.isEmpty, spec["window"] != nil, spec["window"] != .nil {
                throw arguments.bad(1, "give 'window' or 'since', not both")
            }
            let mode = try text("mode", default: "fixed")
            guard mode == "fixed" || mode == "sequential" else {
                throw arguments.bad(1, "mode must be \"fixed\" or \"sequential\", got \"\(mode)\"")
            }
            if mode == "sequential", since.isEmpty {
                throw arguments.bad(1, "mode \"sequential\" judges everything since a mark: give since = NAME (sentinel.mark)")
            }
            let windowName = try text("window", default: "1m")
            guard let window = StatisticsWindow(rawValue: windowName) else {
                throw arguments.bad(1, "window must be \"10s\", \"1m\", \"5m\" or \"15m\", got \"\(windowName)\"")
            }
            var minSamples = mode == "sequential" ? SequentialProportionTest.defaultMinimumCalls : 100
            if let given = spec["min_samples"], given != .nil {
                guard let number = given.doubleValue, number >= 1, number <= 1e12, number == number.rounded() else {
                    throw arguments.bad(1, "min_samples must be a whole number of at least 1, got \(given)")
                }
                minSamples = Int(number)
            }
            let criteria: TrialCriteria
            do throws(CommandError) {
                criteria = try TrialRequest.criteria(
                    spec["criteria"].map(JSONValue.init), context: "", command: "sentinel.compare")
            } catch {
                throw arguments.bad(1, error.message)
            }
            if mode == "sequential", let problem = SequentialJudge.problem(with: criteria, setting: "in mode \"sequential\"") {
                throw arguments.bad(1, problem)
            }
            guard let view = self.state else { throw arguments.bad(1, "compare is only available inside evaluate") }
            let judge = TrialJudge(criteria: criteria, minSamples: minSamples)
            guard let pipeline = view.state.pipeline(pipelineName) else {
                // In `sentinel check` every pipeline exists, without traffic.
                guard view.sample else { throw arguments.bad(1, "no pipeline named '\(pipelineName)'") }
                if mode == "sequential" {
                    var fresh = SequentialJudge(criteria: criteria, minimumCalls: minSamples)
                    let (verdict, evidence) = fresh.look(candidate: .zero, reference: .zero)
                    return [.string(verdict.rawValue), .table(Self.luaTable(evidence, extra: ["since_seconds": 0]))]
                }
                return Self.result(
                    judge.judge(candidate: .zero, reference: .zero), extra: since.isEmpty ? [:] : ["since_seconds": 0])
            }
            func side(_ name: String) throws(LuaArgumentError) -> OutcomeWindows {
                if let windows = pipeline.statistics.side(name) { return windows }
                let known = ["live", "shadow"] + pipeline.variantNames
                throw arguments.bad(
                    1, "pipeline '\(pipelineName)' has no side '\(name)' (expected one of: \(known.joined(separator: ", ")))")
            }
            let candidateWindows = try side(candidate), referenceWindows = try side(reference)
            if mode == "sequential" {
                // The tests live on the mark: a new mark starts them again.
                let key = "\(candidate)\u{0}\(reference)\u{0}\(minSamples)\u{0}\(criteria)"
                guard
                    let (verdict, evidence, seconds) = try self.sequentialLook(
                        pipelineName, since, key: key, candidate: candidate, reference: reference,
                        judge: { SequentialJudge(criteria: criteria, minimumCalls: minSamples) }, arguments)
                else {
                    throw arguments.bad(1, "no mark '\(since)' on pipeline '\(pipelineName)' (sentinel.mark first)")
                }
                return [.string(verdict.rawValue), .table(Self.luaTable(evidence, extra: ["since_seconds": seconds]))]
            }
            if !since.isEmpty {
                // Everything since the script's mark, however long ago.
                guard let tally = try self.tally(pipelineName, since, arguments) else {
                    throw arguments.bad(1, "no mark '\(since)' on pipeline '\(pipelineName)' (sentinel.mark first)")
                }
                let candidateTotals = tally.side(candidate) ?? .zero, referenceTotals = tally.side(reference) ?? .zero
                let verdict = judge.judge(
                    candidate: candidateTotals.stats, reference: referenceTotals.stats,
                    candidateLatencies: candidateTotals.latencyHistogram, referenceLatencies: referenceTotals.latencyHistogram)
                return Self.result(verdict, extra: ["since_seconds": Swift.max(0, self.now - tally.time)])
            }
            let now = pipeline.statistics.instant
            return Self.result(
                judge.judge(
                    candidate: candidateWindows.stats(window, now: now), reference: referenceWindows.stats(window, now: now),
                    candidateLatencies: candidateWindows.latencyHistogram(window, now: now),
                    referenceLatencies: referenceWindows.latencyHistogram(window, now: now)))
        }
    }

    /// The verdict's name and its evidence as a table (numbers stay finite: NaN would break comparisons).
    private static func result(_ verdict: TrialVerdict, extra: [String: Double] = [:]) -> [LuaValue] {
        let name =
            switch verdict {
            case .pass: "pass"
            case .violation: "violation"
            case .inconclusive: "inconclusive"
            }
        return [.string(name), .table(luaTable(verdict.evidence, extra: extra))]
    }

    /// Evidence as a Lua table (numbers stay finite: NaN would break comparisons).
    private static func luaTable(_ evidence: Evidence, extra: [String: Double]) -> [LuaKey: LuaValue] {
        var table: [LuaKey: LuaValue] = [:]
        for (key, value) in evidence {
            switch value {
            case .number(let number): table[.string(key)] = number.isFinite ? .number(number) : .string("\(number)")
            case .string(let text): table[.string(key)] = .string(text)
            }
        }
        for (key, value) in extra { table[.string(key)] = .number(value) }
        return table
    }
}
