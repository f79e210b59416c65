import Metrics

/// What an instance reports of its fleet through swift-metrics (the admin
/// API's `/metrics` exports them).
struct FleetMetrics: Sendable {
    /// 1 while connected to the database, 0 while it keeps its last values (fail static).
    let connected = Gauge(label: "sentinel_fleet_connected")
    /// 1 while this instance leads.
    let leader = Gauge(label: "sentinel_fleet_leader")
    /// The term this instance knows.
    let term = Gauge(label: "sentinel_fleet_term")
    /// The version of the desired state applied here.
    let appliedVersion = Gauge(label: "sentinel_fleet_applied_version")
    /// Times this instance became the leader.
    let elected = Counter(label: "sentinel_fleet_elections_total")
    /// Leader writes refused because the term was over.
    let fenced = Counter(label: "sentinel_fleet_fenced_writes_total")
    /// Decisions not shared because too many waited for the database.
    let droppedAudit = Counter(label: "sentinel_fleet_dropped_audit_total")
    /// The leader: instances whose slices are in the fleet-wide statistics (reported in one of the last 3 slices).
    let reportingInstances = Gauge(label: "sentinel_fleet_reporting_instances")
    /// The leader: instances that reported once and then stopped (left the merge).
    let absentInstances = Gauge(label: "sentinel_fleet_absent_instances")
    /// Connection losses.
    let disconnects = Counter(label: "sentinel_fleet_disconnects_total")
}
