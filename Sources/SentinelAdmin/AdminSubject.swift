import Prometheus
import Sentinel

/// What the admin API serves: a running sentinel.
///
/// ```swift
/// let subject = AdminSubject(runtime: sentinel.runtime, sentinel: sentinel, alerts: alerts, instance: "checkout-1")
/// ```
public struct AdminSubject: Sendable {
    /// The control plane, the trials and the scripts.
    public var runtime: SentinelRuntime
    /// The service around the runtime, when there is one: its state file and
    /// watcher say whether the sentinel is ready.
    public var sentinel: Sentinel?
    /// Where alerts are also broadcast, for the event stream.
    public var alerts: AlertBroadcaster?
    /// This instance's name in `/v1/fleet` and `/v1/status`.
    public var instance: String
    /// The audit file, read for `/v1/audit` (with its rotated files); nil: the in-memory ring.
    public var auditFile: AuditFileSink.Configuration?
    /// What `/metrics` serves; nil: no metrics.
    public var metrics: PrometheusCollectorRegistry?
    /// Fleet mode's view of the fleet; nil: this process is a fleet of one.
    public var fleet: (any FleetReporting)?

    public init(
        runtime: SentinelRuntime, sentinel: Sentinel? = nil, alerts: AlertBroadcaster? = nil, instance: String,
        auditFile: AuditFileSink.Configuration? = nil, metrics: PrometheusCollectorRegistry? = nil,
        fleet: (any FleetReporting)? = nil
    ) {
        self.fleet = fleet
        self.runtime = runtime
        self.sentinel = sentinel
        self.alerts = alerts
        self.instance = instance
        self.auditFile = auditFile
        self.metrics = metrics
    }

    var plane: ControlPlane { runtime.plane }
}
