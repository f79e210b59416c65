import Resilience
import Synchronization

/// The fleet's statistics, merged by its leader from every instance's
/// ``SliceReport``s: per pipeline and side, windows like a single process's
/// (10 s to 15 min) and exact totals, holding the sum of what the instances
/// recorded. Counts and bucket counts add, so the merge is exact: the
/// merged totals equal the sum of the instances' totals over the slices
/// merged, bucket for bucket.
///
/// The windows run on the fleet's clock (``FleetClock``): slice `k` is
/// recorded at `k × 10 s`. With a clock, a slice enters the windows
/// ``grace`` seconds after it ended (the instances' reports come in
/// meanwhile; ``advance()``), and the windows are read at the end of the
/// last slice that entered: the fleet-wide `"10s"` window is the last complete slice, and
/// when reports stop coming the windows move on and empty. Without a clock
/// (tests), a slice enters when its first report comes.
///
/// A report that comes after its slice entered still counts: in its slice
/// if the windows still hold it apart, else in the slice before the newest.
/// An instance that has not reported for ``absentAfter`` slices is absent:
/// it no longer counts in ``reporting()``, its per-instance view is gone, and
/// what it reported stays in the windows and totals.
public final class FleetStatistics: PipelineStatisticsSource {
    /// Slices without a report after which an instance is absent.
    public let absentAfter: Int64
    /// Seconds after a slice's end before it enters the windows.
    public static let grace = 2.0
    /// Slices a report is remembered for, to merge it once: the longest window (15 min).
    static let rememberedSlices: Int64 = 90

    /// Under the state's lock only.
    private final class MergedPipeline {
        let live = OutcomeWindows()
        let shadow = OutcomeWindows()
        var variants: [(name: String, windows: OutcomeWindows)] = []

        func variant(_ name: String) -> OutcomeWindows {
            if let windows = variants.first(where: { $0.name == name })?.windows { return windows }
            let windows = OutcomeWindows()
            variants.append((name, windows))
            return windows
        }
    }

    /// An instance's latest report: its per-instance view is read from it when asked.
    private struct InstanceRecord {
        var report: SliceReport
        var slice: Int64 { report.slice }

        /// What it recorded on one pipeline (its entries are sorted by pipeline: a binary search).
        func view(of pipeline: String) -> InstanceSlice {
            let entries = report.entries
            var low = entries.startIndex, high = entries.endIndex
            while low < high {
                let middle = (low + high) / 2
                if entries[middle].pipeline < pipeline { low = middle + 1 } else { high = middle }
            }
            var live = OutcomeDelta.empty, shadow = OutcomeDelta.empty
            var variants: [String: OutcomeDelta] = [:]
            while low < entries.endIndex, entries[low].pipeline == pipeline {
                switch entries[low].side {
                case .live: live = entries[low].delta
                case .shadow: shadow = entries[low].delta
                case .variant(let name): variants[name] = entries[low].delta
                }
                low += 1
            }
            return InstanceSlice(slice: report.slice, live: live, shadow: shadow, variants: variants)
        }
    }

    private struct Key: Hashable {
        let instance: String
        let slice: Int64
    }

    private struct State {
        var pipelines: [String: MergedPipeline] = [:]
        var instances: [String: InstanceRecord] = [:]
        /// Reports accepted (merged or waiting), by instance and slice: a report read twice counts once.
        var accepted: Set<Key> = []
        /// Reports of slices that have not entered the windows yet.
        var waiting: [SliceReport] = []
        /// The newest slice in the windows.
        var latest: Int64?
        /// The slice the windows end with.
        var reading: Int64?
    }

    private let state = Locked(State())
    /// The fleet's clock (Unix seconds); nil: slices enter as their reports come.
    private let clock: (@Sendable () -> Double)?
    /// Marks taken on these statistics apply only to them.
    public let origin: StatisticsOrigin
    private static let generations = Atomic<UInt64>(0)

    /// Merged statistics. `clock` is the fleet's (``FleetClock/now()``);
    /// without one, each slice enters the windows with its first report.
    public init(absentAfter: Int = 3, clock: (@Sendable () -> Double)? = nil) {
        self.absentAfter = Int64(max(1, absentAfter))
        self.clock = clock
        origin = .merge(Self.generations.add(1, ordering: .relaxed).newValue)
    }

    /// What became of a report given to ``merge(_:)``.
    public enum Acceptance: Sendable, Hashable {
        /// Taken: merged, or waiting for its slice's time (with a clock).
        case taken
        /// That instance's slice was taken already: a report read twice counts once.
        case duplicate
        /// Older than the longest window.
        case tooOld
        /// Ahead of the fleet's clock by more than a slice: it may be taken later.
        case ahead
        /// No time of this fleet (before 1970, or centuries ahead).
        case outOfRange
    }

    /// Takes one instance's slice. Without a clock it enters the windows at
    /// once; with one, as soon as its time came (``advance()``, or this call).
    @discardableResult
    public func merge(_ report: SliceReport) -> Acceptance {
        let now = clock?()
        return state.withLock { state in
            guard FleetClock.slices.contains(report.slice) else { return .outOfRange }
            if let now, report.slice > FleetClock.slice(at: now) + 1 { return .ahead }
            if let latest = state.latest, report.slice <= latest - Self.rememberedSlices { return .tooOld }
            guard state.accepted.insert(Key(instance: report.instance, slice: report.slice)).inserted else { return .duplicate }
            state.waiting.append(report)
            advance(&state, now: now)
            return .taken
        }
    }

    /// Enters the slices whose time came (with a clock; without one they
    /// entered as they came). Reads never do: the merging loop calls this, so
    /// that the work is never done under a reader's locks.
    public func advance() {
        let now = clock?()
        state.withLock { advance(&$0, now: now) }
    }

    /// Enters the slices whose time came, in slice order.
    private func advance(_ state: inout State, now: Double?) {
        let reading: Int64
        if let now {
            reading = FleetClock.slice(at: now - Self.grace) - 1
        } else {
            reading = max(state.latest ?? .min, state.waiting.map(\.slice).max() ?? .min)
        }
        if reading > state.reading ?? .min { state.reading = reading }
        guard state.waiting.contains(where: { $0.slice <= reading }) else { return }
        let entering = state.waiting.filter { $0.slice <= reading }.sorted { ($0.slice, $0.instance) < ($1.slice, $1.instance) }
        state.waiting.removeAll { $0.slice <= reading }
        for report in entering { enter(report, &state) }
    }

    private func enter(_ report: SliceReport, _ state: inout State) {
        let latest = max(state.latest ?? report.slice, report.slice)
        if latest != state.latest {
            state.latest = latest
            state.accepted = state.accepted.filter { $0.slice > latest - Self.rememberedSlices }
        }
        // A slice more than one behind the newest would land in a window slot that moved on: record it in the one before.
        let instant = FleetClock.instant(of: max(report.slice, latest - 1))
        var pipelineName: String?
        var merged: MergedPipeline?
        for entry in report.entries {
            if entry.pipeline != pipelineName {
                pipelineName = entry.pipeline
                if let existing = state.pipelines[entry.pipeline] {
                    merged = existing
                } else {
                    let made = MergedPipeline()
                    state.pipelines[entry.pipeline] = made
                    merged = made
                }
            }
            guard let merged else { continue }
            switch entry.side {
            case .live: merged.live.record(entry.delta, now: instant)
            case .shadow: merged.shadow.record(entry.delta, now: instant)
            case .variant(let name): merged.variant(name).record(entry.delta, now: instant)
            }
        }
        if report.slice >= state.instances[report.instance]?.slice ?? .min {
            state.instances[report.instance] = InstanceRecord(report: report)
        }
    }

    /// Runs `body` on the state as it is (slices enter in ``advance()`` and ``merge(_:)`` only).
    private func read<Value>(_ body: (inout State) -> Value) -> Value {
        state.withLock { body(&$0) }
    }

    /// Whether that instance's slice was taken (or left out as unreadable).
    public func hasMerged(instance: String, slice: Int64) -> Bool {
        state.withLock { $0.accepted.contains(Key(instance: instance, slice: slice)) }
    }

    /// Leaves a slice out for good (its report could not be read): it is not asked for again.
    public func leaveOut(instance: String, slice: Int64) {
        _ = state.withLock { $0.accepted.insert(Key(instance: instance, slice: slice)) }
    }

    /// The newest slice in the windows, nil before the first.
    public var latestSlice: Int64? { read { $0.latest } }

    /// The slice the windows end with, nil before the first report.
    public var readingSlice: Int64? { read { $0.latest == nil ? nil : $0.reading } }

    /// The instances that reported in one of the last ``absentAfter`` slices the windows hold.
    public func reporting() -> [String] {
        read { state in
            let reading = state.reading ?? 0
            return state.instances.filter { $0.value.slice > reading - absentAfter }.keys.sorted()
        }
    }

    /// The instances that reported once, but not in the last ``absentAfter`` slices the windows hold.
    public func absent() -> [String] {
        read { state in
            let reading = state.reading ?? 0
            return state.instances.filter { $0.value.slice <= reading - absentAfter }.keys.sorted()
        }
    }

    /// Forgets instances that have not reported for the longest window (they stop being listed as absent).
    public func forgetLongAbsent() {
        read { state in
            let reading = state.reading ?? 0
            state.instances = state.instances.filter { $0.value.slice > reading - Self.rememberedSlices }
        }
    }

    /// The merged statistics of `pipeline`, read at the end of the slice the
    /// windows end with; its variants are the pipeline's own (empty until
    /// reported) and any other a report named.
    public func statistics(of pipeline: Pipeline) -> PipelineStatistics? {
        read { state in
            let merged = state.pipelines[pipeline.name] ?? MergedPipeline()
            state.pipelines[pipeline.name] = merged
            for variant in pipeline.variantWindows { _ = merged.variant(variant.name) }
            let order = pipeline.variantWindows.map(\.name)
            let variants = merged.variants.sorted {
                (order.firstIndex(of: $0.name) ?? order.count, $0.name) < (order.firstIndex(of: $1.name) ?? order.count, $1.name)
            }
            let reading = state.reading ?? 0
            // The reports as they are now (shared, not copied); each instance's view is found in them when read.
            let records = state.instances, name = pipeline.name, oldest = reading - absentAfter + 1
            return PipelineStatistics(
                live: merged.live, shadow: merged.shadow, variants: variants,
                // A nanosecond before the next slice begins: a slice that enters after this read is never in it.
                instant: FleetClock.instant(of: reading + 1) - 1, origin: origin,
                instances: { records.filter { $0.value.slice >= oldest }.mapValues { $0.view(of: name) } })
        }
    }
}
