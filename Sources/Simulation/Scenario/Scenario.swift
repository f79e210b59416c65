import Resilience
import Sentinel

/// A simulation scenario: pipelines with simulated backends and traffic,
/// timed changes, and what must hold at the end (see `docs/scenarios.md`).
public struct Scenario: Sendable {
    /// The scenario's name (the file name without extension unless given).
    public var name: String
    public var description: String?
    /// Virtual run length in seconds.
    public var duration: Double
    /// Seeds the traffic, the backends, the policies' jitter and every script's `math.random`.
    public var seed: UInt64
    /// The virtual epoch in Unix seconds: audit `time` is `start + t`.
    public var start: Double
    /// The folder of Lua scripts (resolved against the scenario file's folder).
    public var policies: String
    /// Top-level constants of the scripts, changed for this run (`constants`).
    public var constants: [ConstantOverride]
    /// Roles, guards and limits, in the `sentinel run --config` format.
    public var control: ControlPlaneConfiguration
    /// How often a `stats` event is written per pipeline, in seconds (0: never).
    public var sample: Double
    /// A call that takes at least this long, in seconds, counts as slow (`slow_call`, default 1 s).
    public var slowCall: Double = 1
    /// A fleet of instances of these pipelines (`fleet`); nil: one process.
    public var fleet: FleetSpec?
    /// The pipelines, in file order.
    public var pipelines: [PipelineSpec]
    /// Timed changes, in order of `at` (ties keep file order).
    public var events: [TimedEvent]
    /// What must hold at the end.
    public var expectations: [Expectation]
}
