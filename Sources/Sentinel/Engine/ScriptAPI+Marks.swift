import Resilience
import ScriptHost
import ShadowEval

/// `sentinel.mark(pipeline, name)` and `sentinel.since(pipeline, name)`:
/// statistics of a pipeline since an instant the script chose, with no time
/// limit, for judging a canary step on everything since it began rather than
/// on the last minutes.
///
/// ```lua
/// sentinel.set("checkout.split.canary_weight", 5, "next step")
/// sentinel.mark("checkout", "step")              -- the step's data starts now
/// ...
/// local step = sentinel.since("checkout", "step") -- nil before the first mark
/// if step and step.variants.canary.calls >= 500 then ... end
/// local verdict = sentinel.compare{ pipeline = "checkout", candidate = "canary", reference = "stable", since = "step" }
/// ```
///
/// A mark keeps the pipeline's exact totals (``OutcomeWindows/totals()``) of
/// live, shadow and every variant at the call; reading subtracts them from
/// the totals now. On a fleet's leader those are the fleet's merged totals;
/// a new leader's marks start again (its merge began elsewhere). Marks belong to the script (another script's `"step"` is
/// its own), survive ticks and reloads like `memory`, and not a restart of the
/// process (the counters start again; `since` returns nil until the script
/// marks again). A mark is taken at the call, even if `evaluate` raises later.
extension ScriptAPI {
    /// Marks one script may hold: each costs about 4 KiB per side of its pipeline.
    static let maximumMarks = 64
    static let maximumMarkName = 64
    /// Sequential comparisons one mark keeps (each a few tests' state).
    static let maximumJudges = 8

    /// The totals of a pipeline's sides at a mark.
    struct PipelineMark {
        /// The statistics marked: a pipeline registered again under the same
        /// name, or the fleet's statistics after a change of leader, are others.
        var origin: StatisticsOrigin?
        /// `state.now` at the mark, seconds.
        var time: Double
        var live: OutcomeTotals
        var shadow: OutcomeTotals
        var variants: [String: OutcomeTotals]
        /// `sentinel.compare{ mode = "sequential" }`'s tests on this mark, by comparison.
        var judges: [String: SequentialJudge] = [:]

        init(_ statistics: PipelineStatistics?, time: Double) {
            origin = statistics?.origin
            self.time = time
            live = statistics?.live.totals() ?? .zero
            shadow = statistics?.shadow.totals() ?? .zero
            variants = Dictionary(
                (statistics?.variants ?? []).map { ($0.name, $0.windows.totals()) }, uniquingKeysWith: { first, _ in first })
        }

        /// What each side recorded after `earlier`.
        func since(_ earlier: PipelineMark) -> PipelineMark {
            var result = self
            result.time = earlier.time
            result.live = live.since(earlier.live)
            result.shadow = shadow.since(earlier.shadow)
            for (name, totals) in variants { result.variants[name] = totals.since(earlier.variants[name] ?? .zero) }
            return result
        }

        /// One side by the names `sentinel.compare` takes: a variant, `"live"` or `"shadow"`.
        func side(_ name: String) -> OutcomeTotals? {
            switch name {
            case "live": live
            case "shadow": shadow
            default: variants[name]
            }
        }
    }

    func installMarks(in sandbox: LuaSandbox) throws(ScriptError) {
        try sandbox.register("mark", in: "sentinel") { [unowned self] arguments in
            try arguments.expectCount(2...2)
            let (pipelineName, name) = try Self.markArguments(arguments)
            let key = Self.markKey(pipelineName, name)
            if self.marks[key] == nil, self.marks.count >= Self.maximumMarks {
                throw arguments.bad(2, "too many marks (\(Self.maximumMarks)): mark again under a name already used")
            }
            let pipeline = try self.markedPipeline(pipelineName, arguments)
            self.marks[key] = PipelineMark(pipeline, time: self.now)
            return [.number(self.now)]
        }
        try sandbox.register("since", in: "sentinel") { [unowned self] arguments in
            try arguments.expectCount(2...2)
            let (pipelineName, name) = try Self.markArguments(arguments)
            guard let tally = try self.tally(pipelineName, name, arguments) else { return [.nil] }
            var table = tally.live.stats.luaFields
            table["since"] = .number(tally.time)
            table["seconds"] = .number(Swift.max(0, self.now - tally.time))
            table["shadow"] = .table(tally.shadow.stats.luaFields)
            var variants: [LuaKey: LuaValue] = [:]
            for (variant, totals) in tally.variants { variants[.string(variant)] = .table(totals.stats.luaFields) }
            table["variants"] = .table(variants)
            return [.table(table)]
        }
    }

    /// What each side of `pipelineName` recorded since the script's mark `name`; nil without that mark.
    func tally(_ pipelineName: String, _ name: String, _ arguments: LuaArguments) throws(LuaArgumentError) -> PipelineMark? {
        guard let mark = marks[Self.markKey(pipelineName, name)] else { return nil }
        let statistics = try markedPipeline(pipelineName, arguments)
        // A pipeline registered again since the mark counts from zero, and a new leader's fleet
        // statistics from where it began merging: the mark does not apply.
        guard mark.origin == statistics?.origin else { return nil }
        return PipelineMark(statistics, time: now).since(mark)
    }

    /// Runs `judge` (kept on the mark under `key` from its first look on) on
    /// what `candidate` and `reference` recorded since the mark.
    func sequentialLook(
        _ pipelineName: String, _ name: String, key: String, candidate: String, reference: String,
        judge makeJudge: () -> SequentialJudge, _ arguments: LuaArguments
    ) throws(LuaArgumentError) -> (SequentialVerdict, Evidence, seconds: Double)? {
        let markKey = Self.markKey(pipelineName, name)
        guard let tally = try tally(pipelineName, name, arguments) else { return nil }
        // A comparison whose criteria change from look to look would start its tests again each
        // time (and the false-alarm bound with them): a few per mark, then an error.
        if marks[markKey]?.judges[key] == nil, (marks[markKey]?.judges.count ?? 0) >= Self.maximumJudges {
            throw arguments.bad(
                1,
                "mark '\(name)' has \(Self.maximumJudges) sequential comparisons already: keep each comparison's criteria and min_samples the same from look to look"
            )
        }
        var judge = marks[markKey]?.judges[key] ?? makeJudge()
        let (verdict, evidence) = judge.look(
            candidate: tally.side(candidate) ?? .zero, reference: tally.side(reference) ?? .zero)
        marks[markKey]?.judges[key] = judge
        return (verdict, evidence, Swift.max(0, now - tally.time))
    }

    /// The pipeline's statistics (its own, or the fleet's), or nil in `sentinel check`
    /// (every pipeline exists there, without traffic).
    private func markedPipeline(_ name: String, _ arguments: LuaArguments) throws(LuaArgumentError) -> PipelineStatistics? {
        guard let view = state else { throw arguments.bad(1, "marks are only available inside evaluate") }
        if let pipeline = view.state.pipeline(name) { return pipeline.statistics }
        guard view.sample else { throw arguments.bad(1, "no pipeline named '\(name)'") }
        return nil
    }

    private static func markArguments(_ arguments: LuaArguments) throws(LuaArgumentError) -> (String, String) {
        let pipeline = try arguments.string(1)
        if pipeline.isEmpty { throw arguments.bad(1, "the pipeline's name is empty") }
        let name = try arguments.string(2)
        if name.isEmpty || name.utf8.count > maximumMarkName {
            throw arguments.bad(2, "a mark's name has 1 to \(maximumMarkName) bytes")
        }
        return (pipeline, name)
    }

    private static func markKey(_ pipeline: String, _ name: String) -> String { pipeline + "\u{0}" + name }
}
