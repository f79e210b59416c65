import Logging
import Resilience
import Sentinel

/// Fleet-wide statistics: every instance writes what it recorded in each
/// slice of the fleet's clock (``Sentinel/FleetClock``); the leader merges
/// everyone's (``Sentinel/FleetStatistics``), and its scripts, marks and
/// comparisons read the merge instead of its own windows (docs/fleet.md).
extension FleetMember {
    /// Slices a new leader reads back to fill its windows: the longest window, 15 minutes.
    static let rebuiltSlices: Int64 = 90
    /// Slices before the last listing that the next one looks at again (reports that came late).
    static let lateSlices: Int64 = 3
    /// Slices kept in the database; older ones are deleted by the leader.
    static let keptSlices: Int64 = 100
    /// Reports read in one query (a new leader reads back up to 90 slices of every instance).
    static let reportsPerRead = 200
    /// How long after a slice's end this instance cuts it: calls just recorded are in, and the leader sees it soon.
    static let cutDelay = 0.1

    /// What the statistics loop keeps across reconnects.
    struct StatisticsProgress {
        /// What the fleet has of this instance's calls.
        var publisher: SlicePublisher
        /// A slice cut but not known to be written (the connection was lost): looked up once back.
        var unwritten: (report: SliceReport, publisher: SlicePublisher)?
        /// The last slice cut.
        var cut: Int64
        /// The term and the current slice of the leader's last complete listing.
        var listed: (term: Int64, current: Int64)?
        /// The slice of the leader's last housekeeping.
        var pruned: Int64 = .min
        var duplicateLogged = false
    }

    /// Connects a session of its own, and shares statistics until cancelled; on a lost connection it reconnects
    /// with backoff. What was recorded meanwhile goes out in the next slice written (nothing is lost).
    func shareStatistics() async {
        var progress = StatisticsProgress(
            publisher: SlicePublisher(instance: configuration.instance),
            cut: FleetClock.slice(at: FleetClock.now() - Self.cutDelay) - 1)
        var wait = configuration.reconnectFirst
        while !Task.isCancelled {
            do {
                let session = try await FleetSession.connect(
                    database, name: "sentinel:\(configuration.instance):statistics", id: 3, logger: logger)
                wait = configuration.reconnectFirst
                do {
                    try await shareStatistics(on: session, progress: &progress)
                } catch  where !Task.isCancelled {
                    await session.close()
                    throw error
                } catch {
                    // Stopping: the slice under way goes out too (outside the stopping task, whose cancellation
                    // would end the write at once), so that a rolling restart loses no calls.
                    await writeLastSlice(on: session, progress: progress)
                }
                await session.close()
            } catch {
                logger.warning("fleet: statistics: \(String(describing: error)); again in \(wait)")
                try? await Task.sleep(for: wait)
                wait = min(wait * 2, configuration.reconnectLongest)
            }
        }
    }

    private func shareStatistics(on session: FleetSession, progress: inout StatisticsProgress) async throws {
        // The schema is migrated by the replication loop: wait for this version's table.
        while !Task.isCancelled, try await !session.bounded({ try await $0.hasSlicesTable() }) {
            try await Task.sleep(for: configuration.pollEvery)
        }
        while !Task.isCancelled {
            let current = FleetClock.slice(at: FleetClock.now() - Self.cutDelay)
            if let (report, publisher) = progress.unwritten {
                // Cut before a connection was lost: the same report again. If the first write committed after all (its
                // answer was lost), or is still committing (the insert waits for it), it counts once.
                try await write(report, on: session, progress: &progress, publisher: publisher)
            }
            if current - 1 > progress.cut {
                // The slice that just ended (after a gap, everything since the last one written, as the latest).
                let pipelines = runtime.plane.registry.directory
                var draft = progress.publisher
                let report = draft.report(slice: current - 1, pipelines: pipelines.names.compactMap { pipelines.pipelines[$0] })
                progress.cut = current - 1
                progress.unwritten = (report, draft)
                try await write(report, on: session, progress: &progress, publisher: draft)
            }
            if let (term, merged) = leadingStatistics() {
                try await merge(into: merged, term: term, current: current, on: session, progress: &progress)
                merged.advance()
                state.withLock { state in
                    guard state.statistics?.term == term else { return }
                    state.statistics?.ready = true
                    state.statistics?.lastPass = .now
                }
                metrics.reportingInstances.record(merged.reporting().count)
                metrics.absentInstances.record(merged.absent().count)
                if current > progress.pruned {
                    try await session.bounded { try await $0.pruneSlices(before: current - Self.keptSlices) }
                    merged.forgetLongAbsent()
                    progress.pruned = current
                }
            }
            // Until the next cut, or a second (the leader merges what came in meanwhile).
            let untilCut = FleetClock.start(of: current + 1) + Self.cutDelay - FleetClock.now()
            try await Task.sleep(for: min(configuration.pollEvery, .milliseconds(Int64(max(0.01, untilCut) * 1000))))
        }
    }

    /// On a stop: everything since the last slice written, as the slice under way.
    private func writeLastSlice(on session: FleetSession, progress: StatisticsProgress) async {
        let pipelines = runtime.plane.registry.directory
        var publisher = progress.publisher
        let report = publisher.report(
            slice: FleetClock.slice(at: FleetClock.now()), pipelines: pipelines.names.compactMap { pipelines.pipelines[$0] })
        guard !report.entries.isEmpty else { return }
        await Task {
            do { _ = try await session.bounded { try await $0.writeSlice(report) } } catch {
                self.logger.warning("fleet: the last slice could not be written: \(String(describing: error))")
            }
        }.value
    }

    /// Writes a cut slice; once it is in the database (or was already, with the same bytes) the publisher moves on.
    private func write(
        _ report: SliceReport, on session: FleetSession, progress: inout StatisticsProgress, publisher: SlicePublisher
    ) async throws {
        var outcome = try await session.bounded { try await $0.writeSlice(report) }
        // The insert's own snapshot may miss a row another session committed while it waited: look again.
        if outcome == .conflict, try await session.bounded({ try await $0.sliceWritten(report) }) { outcome = .writtenBefore }
        switch outcome {
        case .written, .writtenBefore:
            progress.publisher = publisher
        case .conflict:
            // Another process wrote this slice under this --instance (the last one before a quick restart, or two
            // instances sharing the name): this one's calls go out with its next slice instead.
            if !progress.duplicateLogged {
                progress.duplicateLogged = true
                logger.warning(
                    "fleet: slice \(report.slice) of instance \(configuration.instance) was written by another process (a restart within the slice, or two instances with that --instance): these calls go out with the next slice"
                )
            }
        }
        progress.unwritten = nil
    }

    /// While leading: the merge of this term (a new one at a new term), else nil.
    private func leadingStatistics() -> (Int64, FleetStatistics)? {
        state.withLock { state in
            guard let term = state.term else { return nil }
            if let statistics = state.statistics, statistics.term == term { return (term, statistics.merged) }
            let merged = FleetStatistics(clock: { FleetClock.now() })
            state.statistics = (term, merged, false, nil)
            return (term, merged)
        }
    }

    /// Reads the slices not merged yet and merges them: a new merge reads back the longest window, a later
    /// listing from a few slices before the last complete one (so a pass that failed misses nothing).
    private func merge(
        into merged: FleetStatistics, term: Int64, current: Int64, on session: FleetSession,
        progress: inout StatisticsProgress
    ) async throws {
        var earliest = current - Self.rebuiltSlices
        if let listed = progress.listed, listed.term == term { earliest = max(earliest, listed.current - Self.lateSlices) }
        let from = earliest
        let listed = try await session.bounded { try await $0.listSlices(from: from, through: current + 1) }
        let missing = listed.filter { !merged.hasMerged(instance: $0.instance, slice: $0.slice) }
        var start = missing.startIndex
        while start < missing.endIndex {
            let keys = Array(missing[start..<min(start + Self.reportsPerRead, missing.endIndex)])
            start += keys.count
            let rows = try await session.bounded { try await $0.readSlices(keys) }
            for row in rows {
                do {
                    let report = try SliceReport(decoding: row.bytes)
                    guard report.instance == row.instance, report.slice == row.slice else {
                        logger.error(
                            "fleet: the row of instance \(row.instance), slice \(row.slice) holds the report of instance \(report.instance), slice \(report.slice): left out"
                        )
                        merged.leaveOut(instance: row.instance, slice: row.slice)
                        continue
                    }
                    switch merged.merge(report) {
                    case .taken, .duplicate, .ahead:
                        break  // ahead of this leader's clock: listed, and tried, again
                    case .tooOld, .outOfRange:
                        logger.warning("fleet: slice \(row.slice) of instance \(row.instance) is no time of this merge: left out")
                        merged.leaveOut(instance: row.instance, slice: row.slice)
                    }
                } catch {
                    logger.error("fleet: the slice \(row.slice) of instance \(row.instance) cannot be read, left out: \(error)")
                    merged.leaveOut(instance: row.instance, slice: row.slice)
                }
            }
        }
        progress.listed = (term, current)
    }
}
