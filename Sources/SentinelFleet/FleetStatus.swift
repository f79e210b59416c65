import Sentinel

/// The fleet as one instance last read it: `GET /v1/fleet` and
/// `sentinel fleet status`.
public struct FleetStatus: Sendable, Hashable {
    public struct Instance: Sendable, Hashable {
        public var id: String
        /// The last version of the desired state it applied.
        public var appliedVersion: Int64
        /// `leader` or `follower`, as it said in its last heartbeat.
        public var role: String
        public var scriptsHash: String
        public var configHash: String
        /// Its last heartbeat, Unix seconds.
        public var lastSeen: Double
        /// Seconds since its last heartbeat.
        public var silentFor: Double
        /// Seconds since the oldest version it has not applied was written (0: caught up).
        public var lag: Double
    }

    public var leader: String?
    public var term: Int64
    /// The newest version of the desired state.
    public var version: Int64
    /// Whether the leader's lease still runs.
    public var leaseValid: Bool
    public var instances: [Instance]

    /// The body of `GET /v1/fleet` (DESIGN.md's shape, with a few fields more).
    public func jsonValue(self instance: String, connected: Bool, disconnectedFor: Double?) -> JSONValue {
        [
            "leader": leaseValid ? leader.map { .string($0) } ?? .null : .null,
            "term": .int(term),
            "version": .int(version),
            "self": .string(instance),
            "connected": .bool(connected),
            "disconnected_s": disconnectedFor.map { .double($0) } ?? .null,
            "instances": .array(
                instances.map {
                    [
                        "id": .string($0.id), "applied_version": .int($0.appliedVersion), "lag_s": .double($0.lag),
                        "last_seen": .string(RFC3339.string(fromUnixSeconds: $0.lastSeen)), "silent_s": .double($0.silentFor),
                        "role": .string($0.role), "scripts_hash": .string($0.scriptsHash), "config_hash": .string($0.configHash),
                    ]
                }),
        ]
    }
}
