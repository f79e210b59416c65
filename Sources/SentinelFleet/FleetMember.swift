import Logging
import PostgresNIO
import Resilience
import Sentinel
import ServiceLifecycle

/// One instance of a fleet: leads when it holds the leader's lock and lease,
/// follows otherwise, and keeps its runtime's shared state equal to the
/// fleet's desired state in PostgreSQL (docs/fleet.md).
///
/// Run it in the same service group as the ``Sentinel`` it gives authority
/// to, listed before it (so the sentinel stops first and its last decisions
/// are still written):
///
/// ```swift
/// let member = FleetMember(runtime: runtime, database: database, configuration: .init(instance: "checkout-1"), logger: logger)
/// let sentinel = Sentinel(runtime: runtime, configuration: configuration, logger: logger, authority: member)
/// let group = ServiceGroup(services: [member, sentinel], gracefulShutdownSignals: [.sigterm], logger: logger)
/// ```
public final class FleetMember: Service, DecisionAuthority, FleetReporting, Sendable {
    public struct Configuration: Sendable {
        /// This instance's name in the fleet: unique among the instances.
        public var instance: String
        /// How long a leader's lease lasts without renewal (DESIGN.md: 5 s, a new leader within 10 s).
        public var lease: Duration
        /// How often a leader renews its lease.
        public var renewEvery: Duration
        /// How often a follower tries to lead.
        public var candidateEvery: Duration
        /// How often an instance re-reads the desired state without a doorbell, and reports where it stands.
        public var pollEvery: Duration
        /// The first and the longest wait before reconnecting.
        public var reconnectFirst: Duration
        public var reconnectLongest: Duration
        /// Instances heard from within this count in `state.fleet.instances`.
        public var activeWithin: Duration

        public init(
            instance: String, lease: Duration = .seconds(5), renewEvery: Duration = .seconds(1),
            candidateEvery: Duration = .milliseconds(500), pollEvery: Duration = .seconds(1),
            reconnectFirst: Duration = .milliseconds(200), reconnectLongest: Duration = .seconds(5),
            activeWithin: Duration = .seconds(10)
        ) {
            self.instance = instance
            self.lease = lease
            self.renewEvery = renewEvery
            self.candidateEvery = candidateEvery
            self.pollEvery = pollEvery
            self.reconnectFirst = reconnectFirst
            self.reconnectLongest = reconnectLongest
            self.activeWithin = activeWithin
        }
    }

    /// Whether `name` is a usable instance name: 1 to 64 of letters, digits, `.`, `_`, `-`.
    public static func isValidInstanceName(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count)
            && name.utf8.allSatisfy { byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: ".")
                    || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
            }
    }

    let runtime: SentinelRuntime
    let database: FleetDatabase
    public let configuration: Configuration
    let logger: Logger
    let doorbell = Doorbell()
    /// Rung once the last decisions are written on a stop: then the lease may be handed back.
    let lastDecisionsWritten = Doorbell()
    let state = Locked(MemberState())
    let metrics: FleetMetrics
    let clock = ContinuousClock()

    public init(runtime: SentinelRuntime, database: FleetDatabase, configuration: Configuration, logger: Logger) {
        self.runtime = runtime
        self.database = database
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "instance"] = "\(configuration.instance)"
        self.logger = logger
        metrics = FleetMetrics()
    }

    // MARK: - Authority

    public func mayDecide() async -> Bool {
        let now = clock.now
        return state.withLock { state in
            guard state.leads(at: now) else { return false }
            // Whatever the round decides is written fenced by this term, even if the lease ends mid-round.
            state.decidingTerm = state.term
            return true
        }
    }

    public func roundFinished(_ round: SentinelRuntime.Round) async {
        state.withLock { state in
            if let term = state.decidingTerm { state.decidedTerm = term }
            state.decidingTerm = nil
        }
        doorbell.ring()
    }

    // MARK: - Running

    public func run() async throws {
        logger.info("fleet: instance \(configuration.instance) joins the fleet at \(database)")
        await runtime.engine.setFleetProvider { [state, configuration] in
            state.withLock { $0.scriptView(instance: configuration.instance, activeWithin: configuration.activeWithin.seconds) }
        }
        // The leader's scripts and trials read the fleet's statistics once it merges them; until then (and elsewhere)
        // their own.
        await runtime.engine.setStatisticsProvider { [state] in state.withLock { $0.leaderStatistics } }
        runtime.trials.setStatisticsProvider { [state] in state.withLock { $0.leaderStatistics } }
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.captureDecisions() }
                group.addTask { await self.lead() }
                group.addTask { await self.replicate() }
                group.addTask { await self.shareStatistics() }
            }
        }
        logger.info("fleet: instance \(configuration.instance) left the fleet")
    }

    // MARK: - Status

    public func fleetStatus() async -> JSONValue {
        let now = clock.now
        return state.withLock { state in
            let status = state.status ?? FleetStatus(leader: nil, term: 0, version: 0, leaseValid: false, instances: [])
            return status.jsonValue(
                self: configuration.instance, connected: state.connected,
                disconnectedFor: state.disconnectedSince.map { ($0.duration(to: now)).seconds })
        }
    }

    public func fleetSummary() -> JSONValue {
        let now = clock.now
        return state.withLock { state in
            [
                "instance": .string(configuration.instance), "role": .string(state.leads(at: now) ? "leader" : "follower"),
                "term": .int(state.term ?? state.status?.term ?? 0), "applied_version": .int(state.appliedVersion),
                "connected": .bool(state.connected), "leader": state.status?.leader.map { .string($0) } ?? .null,
            ]
        }
    }

    // MARK: - Decisions to share

    /// Collects this instance's applied decisions (its operators' commands,
    /// and the leader's scripts and trials) to write with the state they changed.
    func captureDecisions() async {
        for await entry in runtime.plane.audit.subscribe(buffer: 4096) {
            guard Self.isShared(entry) else { continue }
            let dropped = state.withLock { state -> Bool in
                state.pendingAudit.append(entry)
                guard state.pendingAudit.count > MemberState.maximumPendingAudit else { return false }
                state.pendingAudit.removeFirst()
                return true
            }
            if dropped { metrics.droppedAudit.increment() }
            doorbell.ring()
        }
    }

    /// Whether other instances audit `entry` too: applied decisions that
    /// change shared state, not what happens to this process alone (its
    /// script loads, its own fleet events) nor what came from the fleet.
    static func isShared(_ entry: AuditEntry) -> Bool {
        guard entry.outcome == .applied, !(entry.correlationID?.hasPrefix(MemberState.replicatedPrefix) ?? false) else {
            return false
        }
        let action = entry.action
        // Breakers' states are each process's own (not desired state): forcing one acts where it was decided.
        if action.hasPrefix("fleet.") || action.hasPrefix("audit.") || action.hasPrefix("breaker.") || action == "scripts.reload" {
            return false
        }
        if action.hasPrefix("script.") { return action == "script.pause" || action == "script.resume" }
        return true
    }
}
