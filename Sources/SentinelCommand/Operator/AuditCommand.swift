import ArgumentParser
import Sentinel

/// `sentinel audit [--follow] [--since T] [--until T] [--actor A] [--action A] [--outcome O] [--limit N]`
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Read the audit: who decided what, when, and why; --follow for what happens next.",
        discussion: """
            Reads GET /v1/audit: the newest --limit matching entries (default 100, at most 1000), \
            oldest first, one line each: time, actor, action, target, outcome, reason. --actor and \
            --action match exactly, or as a prefix when they end in * (script:*, trial.*). \
            --since and --until are RFC 3339 times (2026-12-04T10:00:00Z, or with an offset \
            such as +01:00); --since is inclusive, --until exclusive.

            --follow prints those entries, then every new matching entry as it happens (from \
            GET /v1/events), until Ctrl-C (exit 0). When the stream drops it says so on \
            standard error and reconnects after 1 s, 2 s, 4 s, ... at most 30 s, reading what it \
            missed meanwhile from the audit.

            --json prints one JSON object per line, each entry as in the audit log.

            Exit codes: 0 done, 2 usage or a filter the server refused, 3 server unreachable or \
            token not accepted.

            Example:
              sentinel audit --action automation.freeze --limit 5
              sentinel audit --actor 'script:*' --outcome rejected --limit 20
              sentinel audit --since 2026-12-04T10:00:00Z --until 2026-12-04T11:00:00Z
              sentinel audit --follow --outcome denied
              sentinel audit --json --limit 1000 | jq -r .reason
            """
    )

    @Flag(help: "After the entries, print new matching ones as they happen, until interrupted.")
    var follow = false

    @Option(help: "Entries at or after this RFC 3339 time.")
    var since: String?

    @Option(help: "Entries before this RFC 3339 time.")
    var until: String?

    @Option(help: "Only this actor (operator:alice, script:canary, sentinel; a trailing * matches a prefix).")
    var actor: String?

    @Option(help: "Only this action (param.set, automation.freeze, script.reload; a trailing * matches a prefix).")
    var action: String?

    @Option(help: "Only this outcome: applied, denied, rejected, failed or dry_run.")
    var outcome: String?

    @Option(help: "At most this many entries, the newest (1 to 1000; the server's default is 100).")
    var limit: Int?

    @Flag(help: "One JSON object per line, each entry as in the audit log.")
    var json = false

    @OptionGroup var connection: ConnectionOptions

    func validate() throws {
        if let limit, !(1...1000).contains(limit) {
            throw ValidationError("--limit \(limit): expected a whole number from 1 to 1000")
        }
        _ = try filter()
        if let outcome, AuditOutcome(rawValue: outcome) == nil {
            throw ValidationError("--outcome \(outcome): expected applied, denied, rejected, failed or dry_run")
        }
    }

    /// The filters, with the times read; a time that is not RFC 3339 is a usage error.
    func filter() throws -> AuditFilter {
        var filter = AuditFilter(actor: actor, action: action, outcome: outcome)
        if let since {
            guard let time = RFC3339.unixSeconds(from: since) else {
                throw ValidationError("--since \(since): not an RFC 3339 time (expected 2026-12-04T10:00:00Z or with an offset, +01:00)")
            }
            filter.since = time
        }
        if let until {
            guard let time = RFC3339.unixSeconds(from: until) else {
                throw ValidationError("--until \(until): not an RFC 3339 time (expected 2026-12-04T10:00:00Z or with an offset, +01:00)")
            }
            filter.until = time
        }
        if let from = filter.since, let to = filter.until, from >= to {
            throw ValidationError("--since \(since ?? "") is not before --until \(until ?? ""): no entry could match")
        }
        return filter
    }

    /// The query of GET /v1/audit but `since` and `limit`, which a follower sets itself.
    var filterQuery: [(name: String, value: String)] {
        var query: [(name: String, value: String)] = []
        if let until { query.append(("until", until)) }
        if let actor { query.append(("actor", actor)) }
        if let action { query.append(("action", action)) }
        if let outcome { query.append(("outcome", outcome)) }
        return query
    }

    func run() async throws {
        let filter = try filter()
        if follow {
            try await AdminSession.run(connection, streaming: true) { client in
                let follower = AuditFollower(
                    client: client, filter: filter, filterQuery: filterQuery, since: since, limit: limit, json: json)
                try await follower.runUntilInterrupted()
            }
            return
        }
        var query = filterQuery
        if let since { query.insert(("since", since), at: 0) }
        if let limit { query.append(("limit", String(limit))) }
        try await AdminSession.run(connection) { client in
            let entries = try await AuditFollower.entries(client: client, query: query)
            if entries.isEmpty && !json { StandardError.write("no audit entries match") }
            for entry in entries { print(json ? entry.jsonString() : AuditLine.format(entry)) }
        }
    }
}
