import Resilience
import Sentinel

/// A scenario's service run as a fleet (`fleet`): `instances` processes of
/// the same pipelines, the traffic spread evenly over those alive, one leader
/// deciding on the statistics merged from every instance's slices, and the
/// others applying its decisions, as `sentinel run --fleet` does on
/// PostgreSQL (see `docs/scenarios.md`, "A fleet").
public struct FleetSpec: Sendable {
    /// How many instances run the pipelines.
    public var instances: Int
    /// Seconds a dead leader's lease lasts: a new leader takes over this long after it dies.
    public var lease: Double
    /// Backends that differ on one instance, from the start.
    public var overrides: [InstanceBackend]

    /// The name of instance `index` (from 0): `instance-1`, `instance-2`, …
    public static func name(of index: Int) -> String { "instance-\(index + 1)" }
}

/// One instance's own settings of a backend (a slow or failing host among healthy ones).
public struct InstanceBackend: Sendable {
    /// The instance, from 0 (written from 1 in a scenario).
    public var instance: Int
    /// `pipeline` or `pipeline.variant`.
    public var target: String
    public var spec: BackendSpec
}
