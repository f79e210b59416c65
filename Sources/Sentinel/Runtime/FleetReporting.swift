/// What the admin API shows of a fleet (`GET /v1/fleet`, the `fleet` field of
/// `GET /v1/status`); fleet mode provides it. Without one, a process reports
/// itself as the leader of a fleet of one.
public protocol FleetReporting: Sendable {
    /// The body of `GET /v1/fleet`: `{ leader, term, instances: [...] }` and more.
    func fleetStatus() async -> JSONValue
    /// This instance's place in the fleet: role, term, applied version, connected.
    func fleetSummary() -> JSONValue
}
