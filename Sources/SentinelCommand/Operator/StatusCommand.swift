import ArgumentParser
import Sentinel

/// `sentinel status`
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show what a running sentinel is doing: freeze, scripts, trials, audit, state file.",
        discussion: """
            Reads GET /v1/status of the admin API (docs/admin-api.md). The server is --server, \
            else $SENTINEL_SERVER, else http://127.0.0.1:9464; the token is read from \
            --token-file, else $SENTINEL_TOKEN_FILE, else taken from $SENTINEL_TOKEN.

            Exit codes: 0 done, 2 usage, 3 server unreachable or token not accepted.

            Example:
              sentinel status --server http://127.0.0.1:9464 --token-file ~/.sentinel-token
              SENTINEL_TOKEN_FILE=~/.sentinel-token sentinel status --json
            """
    )

    @OptionGroup var connection: ConnectionOptions

    @Flag(help: "Print the server's JSON as received.")
    var json = false

    func run() async throws {
        try await AdminSession.run(connection) { client in
            let response = try await client.get("/v1/status").successful()
            if json {
                print(response.text)
                return
            }
            for line in StatusReport.lines(try response.json(), server: client.server) { print(line) }
        }
    }
}

/// The few lines of `sentinel status`:
///
/// ```
/// sentinel    checkout-1 at http://127.0.0.1:9464, up 1h 0m
/// automation  FROZEN by operator:alice 5m ago: incident 42
/// scripts     5 loaded, 0 failed, 0 suspended, 1 paused
/// trials      1 running, 3 in all
/// audit       1204 entries, writing, 0 dropped
/// state file  /var/lib/sentinel/state.json, saved 2s ago
/// ```
enum StatusReport {
    static func lines(_ status: JSONValue, server: ServerURL, now: Double = DisplayText.now()) -> [String] {
        var rows: [(String, String)] = []
        var sentinel = status["instance"].stringValue.map { "\($0) at \(server)" } ?? server.base
        if let uptime = status["uptime_s"].doubleValue { sentinel += ", up \(DisplayText.duration(uptime))" }
        rows.append(("sentinel", sentinel))

        let frozen = status["frozen"]
        if frozen == .null {
            rows.append(("automation", "running"))
        } else {
            var text = "FROZEN"
            if let by = frozen["by"].stringValue { text += " by \(by)" }
            if let since = frozen["since"].stringValue { text += " \(DisplayText.ago(since, now: now)) (\(since))" }
            if let reason = frozen["reason"].stringValue { text += ": \(DisplayText.oneLine(reason))" }
            rows.append(("automation", text))
        }

        let scripts = status["scripts"]
        if scripts != .null {
            rows.append(("scripts", counts(scripts, ["loaded", "failed", "suspended", "paused"])))
        }
        let trials = status["trials"]
        if trials != .null {
            rows.append(("trials", "\(DisplayText.value(trials["running"])) running, \(DisplayText.value(trials["total"])) in all"))
        }
        let audit = status["audit"]
        if audit != .null {
            let writing = audit["failing"].boolValue == true ? "FAILING to write" : "writing"
            rows.append(
                ("audit", "\(DisplayText.value(audit["entries"])) entries, \(writing), \(DisplayText.value(audit["dropped"])) dropped"))
        }
        let stateFile = status["state_file"]
        if stateFile == .null {
            rows.append(("state file", "none"))
        } else {
            var text = stateFile["path"].stringValue ?? "?"
            if stateFile["failing"].boolValue == true { text += ", FAILING to save" }
            if let saved = stateFile["last_saved"].stringValue {
                text += ", saved \(DisplayText.ago(saved, now: now))"
            } else {
                text += ", not saved yet"
            }
            rows.append(("state file", text))
        }
        var table = TextTable(["", ""])
        for (name, text) in rows { table.append([name, text]) }
        return Array(table.lines.dropFirst())
    }

    /// `5 loaded, 0 failed, ...` for the fields present.
    private static func counts(_ object: JSONValue, _ fields: [String]) -> String {
        fields.filter { object[$0] != .null }.map { "\(DisplayText.value(object[$0])) \($0)" }.joined(separator: ", ")
    }
}
