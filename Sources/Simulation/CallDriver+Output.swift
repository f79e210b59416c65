import Resilience

/// What the output says of a pipeline: the whole fleet's calls, however many instances served them.
extension CallDriver {
    /// The scenario's pipelines, once each (the first instance's runtimes).
    var outputPipelines: ArraySlice<PipelineRuntime> { runtimes.prefix(pipelinesPerInstance) }

    /// Every instance's finished calls of pipeline `p` (of the scenario), or of one of its variants.
    func counts(_ p: Int, variant: Int? = nil) -> CallCounts {
        var counts = CallCounts()
        for r in stride(from: p, to: runtimes.count, by: pipelinesPerInstance) {
            counts = counts + (variant.map { runtimes[r].variantTotals[$0].counts } ?? runtimes[r].totals.counts)
        }
        return counts
    }

    /// What finished since the last sample, on every instance; starts the next sample.
    mutating func takeSample(_ p: Int, variant: Int? = nil) -> CallCounts {
        var counts = CallCounts()
        for r in stride(from: p, to: runtimes.count, by: pipelinesPerInstance) {
            if let variant {
                counts = counts + runtimes[r].variantTotals[variant].sinceSample()
                runtimes[r].variantTotals[variant].markSample()
            } else {
                counts = counts + runtimes[r].totals.sinceSample()
                runtimes[r].totals.markSample()
            }
        }
        return counts
    }

    /// Pipeline `p`'s windows (or one variant's): its own, or in a fleet every instance's calls together.
    func windows(_ p: Int, variant: Int? = nil) -> OutcomeWindows {
        if !fleetWindows.isEmpty { return fleetWindows[p][(variant ?? -1) + 1] }
        return variant.map { runtimes[p].pipeline.variantWindows[$0].windows } ?? runtimes[p].pipeline.windows
    }
}
