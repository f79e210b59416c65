import Resilience

/// Cuts one instance's statistics into ``SliceReport``s: at each slice
/// boundary, the difference between every stream's exact totals now and at
/// the last cut. Nothing on the recording path: it reads the totals the
/// windows already keep, once per stream and slice.
///
/// A pipeline registered again (new windows) starts from zero; the windows
/// it replaced, or of a pipeline that is gone, are cut one last time, so the
/// calls they took since the last cut are not lost. The first report holds
/// everything since the windows were made.
public struct SlicePublisher: Sendable {
    public let instance: String

    /// One stream at the last cut: held, so that no new windows take a freed one's identifier.
    private struct Stream: Sendable {
        let pipeline: String
        let side: StatisticsSide
        let windows: OutcomeWindows
        let totals: OutcomeTotals
    }

    private var last: [ObjectIdentifier: Stream] = [:]

    public init(instance: String) {
        self.instance = instance
    }

    /// What every stream of `pipelines` recorded since the last cut, as slice `slice`.
    public mutating func report(slice: Int64, pipelines: [Pipeline]) -> SliceReport {
        var deltas: [Stream] = []
        var seen: [ObjectIdentifier: Stream] = [:]
        seen.reserveCapacity(last.count)
        func cut(_ pipeline: String, _ side: StatisticsSide, _ windows: OutcomeWindows) {
            let key = ObjectIdentifier(windows)
            let totals = windows.totals()
            seen[key] = Stream(pipeline: pipeline, side: side, windows: windows, totals: totals)
            deltas.append(Stream(pipeline: pipeline, side: side, windows: windows, totals: totals))
        }
        for pipeline in pipelines {
            cut(pipeline.name, .live, pipeline.windows)
            cut(pipeline.name, .shadow, pipeline.shadowWindows)
            for variant in pipeline.variantWindows { cut(pipeline.name, .variant(variant.name), variant.windows) }
        }
        // Windows that left since the last cut: what they took after it.
        for (key, gone) in last where seen[key] == nil {
            deltas.append(Stream(pipeline: gone.pipeline, side: gone.side, windows: gone.windows, totals: gone.windows.totals()))
        }
        // One entry per stream: a pipeline registered again shows its old and new windows' calls together.
        var entries: [SliceReport.Entry] = []
        var positions: [StreamKey: Int] = [:]
        for stream in deltas {
            let delta = stream.totals.delta(since: last[ObjectIdentifier(stream.windows)]?.totals ?? .zero)
            guard !delta.isEmpty else { continue }
            let key = StreamKey(pipeline: stream.pipeline, side: stream.side)
            if let position = positions[key] {
                var combined = entries[position].delta.totals
                combined.add(delta)
                entries[position] = SliceReport.Entry(pipeline: key.pipeline, side: key.side, delta: combined.delta(since: .zero))
            } else {
                positions[key] = entries.count
                entries.append(SliceReport.Entry(pipeline: key.pipeline, side: key.side, delta: delta))
            }
        }
        last = seen
        return SliceReport(instance: instance, slice: slice, entries: entries)
    }

    private struct StreamKey: Hashable {
        let pipeline: String
        let side: StatisticsSide
    }
}
