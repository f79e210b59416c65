import Sentinel

/// What one instance knows of its fleet, shared by its loops under one lock.
struct MemberState: Sendable {
    /// Replicated audit entries' correlation IDs start with this: `fleet:VERSION[:ORIGINAL]`.
    static let replicatedPrefix = "fleet:"
    /// Decisions kept while the database is away, before the oldest are dropped (and counted).
    static let maximumPendingAudit = 10_000

    // Leadership.
    /// The term this instance leads, nil when it follows.
    var term: Int64?
    /// Until when its lease is sure to hold (measured from before the renewal was sent).
    var leaseValidUntil: ContinuousClock.Instant?
    /// The term whose leader caught up with the desired state (and took its scripts' memory): it may decide.
    var readyTerm: Int64?
    /// The term of the round running now (from `mayDecide` to `roundFinished`).
    var decidingTerm: Int64?
    /// The term a round decided in, until its decisions are written (a write fenced by that term).
    var decidedTerm: Int64?
    /// The term of the last snapshot read: a new leader takes its scripts' memory from one of its own term.
    var lastReadTerm: Int64 = 0

    // Replication.
    /// The version of the desired state applied here.
    var appliedVersion: Int64 = 0
    /// The newest version whose audit this instance wrote (from its heartbeat row, across restarts).
    var auditedThrough: Int64?
    /// What the database holds, as far as this instance knows (its baseline for finding its own changes).
    var known = DesiredState()
    /// Versions this instance wrote (not applied again when read back).
    var ownVersions: Set<Int64> = []
    /// Read everything again and apply it as written (first connection, a write refused by a fence, a database
    /// restored to an older version).
    var resync = true
    /// A resync after a refused write: keys the fleet never wrote go back to their last known values.
    var revertUnwritten = false
    /// Decisions made here that are not written yet.
    var pendingAudit: [AuditEntry] = []
    /// Problems already logged (a knob another instance has and this one not), logged once.
    var reportedProblems: Set<String> = []

    // Statistics.
    /// The fleet's statistics this leader merges, the term it began merging
    /// them in, and whether its first pass (reading back the longest window) is done.
    var statistics: (term: Int64, merged: FleetStatistics, ready: Bool, lastPass: ContinuousClock.Instant?)?
    /// A merge whose last complete pass is older than this is not read (the statistics loop lost its session).
    static let staleMerge: Duration = .seconds(30)

    // Connection.
    var connected = false
    var disconnectedSince: ContinuousClock.Instant?
    /// The fleet as last read.
    var status: FleetStatus?

    /// Whether this instance leads and may decide at `now`.
    func leads(at now: ContinuousClock.Instant) -> Bool {
        guard let term, readyTerm == term, let leaseValidUntil else { return false }
        return now < leaseValidUntil
    }

    /// Stops leading at once.
    mutating func stopLeading() {
        term = nil
        statistics = nil
        leaseValidUntil = nil
        readyTerm = nil
    }

    /// The statistics this instance's scripts read while it leads (the fleet's), nil otherwise (its own).
    var leaderStatistics: FleetStatistics? {
        guard let term, let statistics, statistics.term == term, statistics.ready, let lastPass = statistics.lastPass,
            lastPass.duration(to: .now) < Self.staleMerge, statistics.merged.latestSlice != nil
        else {
            return nil
        }
        return statistics.merged
    }

    /// `state.fleet`: `{ instances, leader, term }`, and on the leader once it
    /// merges statistics, `absent` (instances that stopped reporting). There,
    /// `instances` counts the instances in the merge (reported in one of the
    /// last slices); elsewhere, the instances heard from lately.
    func scriptView(instance: String, activeWithin: Double) -> [String: JSONValue] {
        let active = status?.instances.filter { $0.silentFor <= activeWithin }.count ?? 0
        let leader: String? = term != nil ? instance : (status?.leaseValid == true ? status?.leader : nil)
        var view: [String: JSONValue] = [
            "instances": .int(Int64(max(1, active))), "leader": leader.map { .string($0) } ?? .null,
            "term": .int(term ?? status?.term ?? 0),
        ]
        if let merged = leaderStatistics, let reading = merged.readingSlice {
            view["instances"] = .int(Int64(merged.reporting().count))
            view["absent"] = .array(merged.absent().map { .string($0) })
            view["slice"] = .int(reading)
        }
        return view
    }
}
