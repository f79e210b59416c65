import Resilience
import Sentinel

/// What a report shows of one simulated run: traffic, errors and latency per
/// pipeline and variant over virtual time, every knob's live and shadow value
/// over time, and the decisions (audited commands, trials, the rules' own
/// `sentinel.decision`s, alerts, scenario events) with their reasons and evidence.
///
/// Recorded by a ``Simulation`` on which ``Simulation/recordForReport()`` was
/// called before ``Simulation/run(progress:emit:)``; rendered by ``HTMLReport``.
/// Recording changes nothing in the run: the events, their order and every
/// random draw are the same with or without it.
public struct RunRecording: Sendable {
    /// A value at a virtual time (seconds since the start).
    public struct Point: Sendable, Hashable {
        public var t: Double
        public var value: Double
    }

    /// A shadow value at a virtual time: nil while the knob has no shadow.
    public struct ShadowPoint: Sendable, Hashable {
        public var t: Double
        public var value: Double?
    }

    /// Calls, failures and p99 of a pipeline, or of one of its split variants, per interval.
    public struct Series: Sendable {
        /// `checkout` or `checkout.canary`.
        public var name: String
        /// The split variant, or nil for the whole pipeline.
        public var variant: String?
        /// Calls that finished in each interval (one entry per ``RunRecording/times`` entry).
        public var calls: [Int] = []
        /// Of those, the calls that failed.
        public var failures: [Int] = []
        /// The observer's p99 at the end of each interval, in seconds, from
        /// the window ``RunRecording/window``; nil when that window saw no call.
        public var p99: [Double?] = []
    }

    /// A pipeline's series: the whole pipeline and each split variant.
    public struct PipelineSeries: Sendable {
        public var name: String
        public var overall: Series
        /// In split order; empty without a split.
        public var variants: [Series]
    }

    /// A knob's live and shadow values over the run, as steps: each point holds until the next.
    public struct KnobSeries: Sendable {
        public var name: String
        public var kind: KnobKind
        public var minimum: Double
        public var maximum: Double
        /// The first point is the value at the start; one more per change.
        public var live: [Point]
        /// Empty when the knob never had a shadow value.
        public var shadow: [ShadowPoint]
    }

    /// The scenario's name and description.
    public var scenario: String
    public var description: String?
    /// The seed in use.
    public var seed: UInt64
    /// Virtual run length, seconds.
    public var duration: Double
    /// The virtual epoch, Unix seconds (audit times are `start + t`).
    public var start: Double
    /// The scripts that were loaded, by name.
    public var scripts: [String] = []
    /// The report's own sampling interval, seconds (independent of the
    /// scenario's `sample`, which decides the `stats` events only).
    public var interval: Double
    /// The observer window p99 is read from: the one nearest the interval.
    public var window: StatisticsWindow
    /// The end of each interval, seconds; the last one is the end of the run.
    public var times: [Double] = []
    public var pipelines: [PipelineSeries]
    /// Sorted by name.
    public var knobs: [KnobSeries] = []
    /// The run's events that are decisions or explain them, in order: `command`,
    /// `trial`, `decision`, `alert`, `event`, `error`, `script` (except plain
    /// loads), and any other type but `start`, `stats`, `log` and `summary`. At most
    /// ``RunRecording/maximumDecisions``; the rest are only counted.
    public var decisions: [SimulationEvent] = []
    /// Decisions past ``RunRecording/maximumDecisions``, not kept.
    public var omittedDecisions = 0
    /// The run's `summary` event, once it ran to its end.
    public var summary: SimulationEvent?

    /// How many decisions a recording keeps: a report is for reading, and the
    /// JSON Lines output has them all.
    public static let maximumDecisions = 2_000
}

extension RunRecording {
    /// The report's sampling interval for a run of `duration` seconds: the
    /// shortest round interval that gives at most 240 samples.
    public static func interval(forDuration duration: Double) -> Double {
        let steps: [Double] = [
            0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1_800, 3_600, 7_200, 10_800, 21_600, 43_200, 86_400,
        ]
        return steps.first { duration / $0 <= 240 } ?? 86_400
    }

    /// The observer window whose p99 stands for an interval: the shortest one
    /// at least as long (15 minutes past that).
    public static func window(forInterval interval: Double) -> StatisticsWindow {
        switch interval {
        case ...10: .tenSeconds
        case ...60: .oneMinute
        case ...300: .fiveMinutes
        default: .fifteenMinutes
        }
    }
}
