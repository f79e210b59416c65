import ArgumentParser
import Sentinel

/// `sentinel fleet status`
struct FleetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fleet",
        abstract: "Look at the fleet of instances that share one database.",
        discussion: """
            Example:
              sentinel fleet status
            """,
        subcommands: [FleetStatusCommand.self]
    )
}

/// `sentinel fleet status`
struct FleetStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the leader, its term, and each instance's applied version and lag.",
        discussion: """
            Reads GET /v1/fleet. A single process (no --fleet) reports itself as the leader of a \
            fleet of one. --json prints the body as received: {leader, term, instances: [{id, \
            applied_version, lag_s, last_seen, scripts_hash, config_hash}]}.

            Exit codes: 0 done, 2 usage, 3 server unreachable or token not accepted.

            Example:
              sentinel fleet status
              sentinel fleet status --json | jq '.instances[] | select(.lag_s > 5)'
            """
    )

    @OptionGroup var connection: ConnectionOptions

    @Flag(help: "Print the body of GET /v1/fleet as received.")
    var json = false

    func run() async throws {
        try await AdminSession.run(connection) { client in
            let response = try await client.get("/v1/fleet").successful()
            if json {
                print(response.text)
                return
            }
            for line in FleetTable.lines(try response.json()) { print(line) }
        }
    }
}

/// The readable `sentinel fleet status`:
///
/// ```
/// leader checkout-1, term 3, 2 instances
/// ID          ROLE      APPLIED  LAG  LAST SEEN  SCRIPTS           CONFIG
/// checkout-1  leader    42       0s   just now   a1b2c3d4e5f60718  0000000000000000
/// ```
///
/// A line more when the instance asked cannot reach the database.
enum FleetTable {
    static func lines(_ fleet: JSONValue, now: Double = DisplayText.now()) -> [String] {
        let instances = fleet["instances"].arrayValue ?? []
        let leader = fleet["leader"].stringValue ?? "none"
        var lines = [
            "leader \(leader), term \(DisplayText.value(fleet["term"])), \(instances.count) instance\(instances.count == 1 ? "" : "s")"
        ]
        if fleet["connected"] == false {
            let since = fleet["disconnected_s"].doubleValue.map { " for \(DisplayText.number(($0 * 10).rounded() / 10))s" } ?? ""
            lines.append(
                "\(fleet["self"].stringValue ?? "this instance") cannot reach the database\(since): it keeps its last values; "
                    + "this is the fleet as it last read it")
        }
        var table = TextTable(["ID", "ROLE", "APPLIED", "LAG", "LAST SEEN", "SCRIPTS", "CONFIG"])
        for instance in instances {
            let id = instance["id"].stringValue ?? "?"
            let lag = instance["lag_s"].doubleValue.map { DisplayText.number(($0 * 10).rounded() / 10) + "s" } ?? "-"
            let seen = instance["last_seen"].stringValue.map { DisplayText.ago($0, now: now) } ?? "-"
            table.append([
                id, instance["role"].stringValue ?? (id == leader ? "leader" : "-"), DisplayText.value(instance["applied_version"]), lag,
                seen,
                DisplayText.value(instance["scripts_hash"]), DisplayText.value(instance["config_hash"]),
            ])
        }
        lines += table.lines
        return lines
    }
}
