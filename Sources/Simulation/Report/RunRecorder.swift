import Resilience
import Sentinel

/// Builds a ``RunRecording`` while a simulation runs: samples at the report's
/// interval, knob values whenever they may have changed, and the decisions.
struct RunRecorder {
    private(set) var recording: RunRecording
    /// The next sample's instant, nanoseconds; `.max` once the last was taken.
    private(set) var nextSample: Int64
    private let intervalNanoseconds: Int64
    private let end: Int64
    /// Calls and failures per pipeline (and per variant) at the last sample: the totals are cumulative.
    private var lastTotals: [[(calls: Int, failures: Int)]]
    private var knobIndex: [String: Int] = [:]

    init(scenario: Scenario, seed: UInt64, pipelines: [(name: String, variants: [String])], end: Int64) {
        let interval = RunRecording.interval(forDuration: scenario.duration)
        recording = RunRecording(
            scenario: scenario.name, description: scenario.description, seed: seed, duration: scenario.duration,
            start: scenario.start, interval: interval, window: RunRecording.window(forInterval: interval),
            pipelines: pipelines.map { pipeline in
                RunRecording.PipelineSeries(
                    name: pipeline.name, overall: .init(name: pipeline.name, variant: nil),
                    variants: pipeline.variants.map { .init(name: "\(pipeline.name).\($0)", variant: $0) })
            })
        intervalNanoseconds = Int64((interval * 1e9).rounded())
        self.end = end
        nextSample = min(intervalNanoseconds, end)
        lastTotals = pipelines.map { Array(repeating: (0, 0), count: $0.variants.count + 1) }
    }

    // MARK: - Samples

    /// Takes the sample due at ``nextSample`` from the pipelines' totals and windows (a fleet's: every instance's).
    mutating func sample(_ driver: CallDriver) {
        let now = nextSample
        recording.times.append(Double(now) / 1e9)
        let window = recording.window
        for (p, runtime) in driver.outputPipelines.enumerated() where p < recording.pipelines.count {
            Self.append(&recording.pipelines[p].overall, driver.counts(p), driver.windows(p).stats(window, now: now), &lastTotals[p][0])
            for v in recording.pipelines[p].variants.indices where v < runtime.variantTotals.count {
                Self.append(
                    &recording.pipelines[p].variants[v], driver.counts(p, variant: v),
                    driver.windows(p, variant: v).stats(window, now: now), &lastTotals[p][v + 1])
            }
        }
        nextSample = now >= end ? .max : min(now + intervalNanoseconds, end)
    }

    private static func append(
        _ series: inout RunRecording.Series, _ totals: CallCounts, _ stats: WindowStats, _ last: inout (calls: Int, failures: Int)
    ) {
        series.calls.append(totals.calls - last.calls)
        series.failures.append(totals.failures - last.failures)
        series.p99.append(stats.calls > 0 ? stats.p99 : nil)
        last = (totals.calls, totals.failures)
    }

    // MARK: - Knobs and decisions

    /// Notes every knob whose live or shadow value differs from the last one seen.
    mutating func observe(_ knobs: [ParameterInfo], at t: Double) {
        for info in knobs {
            guard let index = knobIndex[info.name] else {
                knobIndex[info.name] = recording.knobs.count
                recording.knobs.append(
                    RunRecording.KnobSeries(
                        name: info.name, kind: info.descriptor.kind, minimum: info.minimum, maximum: info.maximum,
                        live: [.init(t: t, value: info.value)],
                        shadow: info.shadow.map { [.init(t: t, value: $0)] } ?? []))
                continue
            }
            if recording.knobs[index].live.last?.value != info.value {
                recording.knobs[index].live.append(.init(t: t, value: info.value))
            }
            let shadowBefore = recording.knobs[index].shadow.last?.value
            if shadowBefore != info.shadow {
                recording.knobs[index].shadow.append(.init(t: t, value: info.shadow))
            }
        }
    }

    /// Keeps an event that is a decision or explains one.
    mutating func record(_ event: SimulationEvent) {
        switch event.type {
        case "stats", "summary", "log":
            // A script's log lines explain nothing the list shows: they stay in the timeline and the JSON Lines.
            if event.type == "summary" { recording.summary = event }
        case "start":
            if case .array(let names)? = event["scripts"] { recording.scripts = names.map(\.plainText) }
        case "script" where event["action"] == .string("script.load") && event["outcome"] == .string("applied"):
            break
        default:
            guard recording.decisions.count < RunRecording.maximumDecisions else {
                recording.omittedDecisions += 1
                return
            }
            recording.decisions.append(event)
        }
    }

    /// Sorts the knobs by name (the registry lists them so; a knob added later would not be).
    mutating func finish() {
        recording.knobs.sort { $0.name < $1.name }
    }
}
