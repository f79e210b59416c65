import AsyncHTTPClient
import Sentinel

/// `sentinel audit --follow`: the matching entries, then every new matching
/// entry as it happens, until interrupted; reconnects when the stream drops.
///
/// Each connection first opens `GET /v1/events`, then reads `GET /v1/audit`
/// from the newest entry printed so far (the user's `--since` the first
/// time), then reads the stream: an entry written between the two is in
/// both, and none is lost. ``RecentEntries`` keeps the overlap from being
/// printed twice. A failure of the first connection ends the command with
/// its exit code; after that, a dropped stream or a server that went away is
/// said on standard error and retried after 1 s, 2 s, 4 s, ... at most 30 s.
/// A 401 (the token was revoked) or another refusal ends it.
struct AuditFollower: Sendable {
    let client: AdminClient
    let filter: AuditFilter
    /// The server-side filters but `since` and `limit`.
    let filterQuery: [(name: String, value: String)]
    /// The user's `--since`, as given.
    let since: String?
    /// The user's `--limit`, for the first read only.
    let limit: Int?
    let json: Bool

    /// The most a catch-up read after a reconnection asks for.
    static let catchUpLimit = 1000

    /// Follows until SIGINT or SIGTERM (then returns: exit 0), or until a failure that retrying cannot mend.
    func runUntilInterrupted() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await follow() }
            group.addTask { await InterruptSignal.wait() }
            // Whichever ends first ends both: an interruption, or a failure of
            // the follower (rethrown here).
            try await group.next()
            group.cancelAll()
        }
    }

    /// Reads, prints and reconnects until cancelled.
    func follow() async throws {
        var printed = RecentEntries()
        var newest: (time: Double, text: String)?
        var backoff = ReconnectBackoff()
        var connected = false
        while !Task.isCancelled {
            var streaming = false
            let reason: String
            do {
                let stream = try await client.openEvents()
                var query = filterQuery
                if let from = newest?.text ?? since { query.insert(("since", from), at: 0) }
                if let limit = connected ? Self.catchUpLimit : limit { query.append(("limit", String(limit))) }
                let missed = try await Self.entries(client: client, query: query)
                if connected {
                    StandardError.write("reconnected to \(client.server)/v1/events")
                    if missed.count >= Self.catchUpLimit {
                        StandardError.write("\(Self.catchUpLimit) or more entries while disconnected: older ones are not shown")
                    }
                }
                for entry in missed { show(entry, printed: &printed, newest: &newest) }
                connected = true
                streaming = true
                backoff.reset()
                try await read(stream, printed: &printed, newest: &newest)
                reason = "the server ended the event stream"
            } catch let failure as OperatorFailure {
                // The first connection decides the exit code; later, only a
                // transport failure (exit class 3 but not 401) is worth retrying.
                if Task.isCancelled { return }
                if !connected || failure.code != .unreachable { throw failure }
                reason = failure.cause ?? failure.message
            } catch {
                if Task.isCancelled { return }
                reason = TransportFailure.describe(error, timeout: AdminClient.streamIdleTimeout)
            }
            let delay = backoff.next()
            let what = streaming ? "event stream lost" : "cannot reconnect"
            StandardError.write("\(what) (\(reason)); reconnecting in \(delay) s")
            do {
                try await Task.sleep(for: .seconds(delay))
            } catch {
                return
            }
        }
    }

    /// Reads the event stream until it ends, printing the audit events that match.
    private func read(
        _ stream: HTTPClientResponse, printed: inout RecentEntries, newest: inout (time: Double, text: String)?
    )
        async throws
    {
        var parser = ServerSentEventParser()
        for try await chunk in stream.body {
            for event in try parser.feed(chunk.readableBytesView) where event.type == "audit" {
                guard let entry = try? JSONParser().parse(event.data), entry.objectValue != nil else {
                    StandardError.write("skipped an audit event that is not a JSON object")
                    continue
                }
                if filter.matches(entry) { show(entry, printed: &printed, newest: &newest) }
            }
        }
    }

    /// Prints `entry` unless it was printed already, and flushes: a reader at
    /// the other end of a pipe sees it now.
    private func show(_ entry: JSONValue, printed: inout RecentEntries, newest: inout (time: Double, text: String)?) {
        let canonical = entry.jsonString()
        guard printed.insert(canonical) else { return }
        print(json ? canonical : AuditLine.format(entry))
        StandardError.flushOutput()
        if let text = entry["time"].stringValue, let time = RFC3339.unixSeconds(from: text), time >= newest?.time ?? -.infinity {
            newest = (time, text)
        }
    }

    /// The entries of `GET /v1/audit?query`, oldest first.
    static func entries(client: AdminClient, query: [(name: String, value: String)]) async throws(OperatorFailure) -> [JSONValue] {
        let response = try await client.get("/v1/audit", query: query).successful()
        guard let entries = try response.json()["entries"].arrayValue else {
            throw OperatorFailure(.unreachable, "\(client.server)/v1/audit answered without an `entries` array")
        }
        return entries
    }
}

/// The waits between reconnections: 1 s, 2 s, 4 s, 8 s, 16 s, then 30 s.
struct ReconnectBackoff: Sendable {
    static let maximum = 30
    private var current = 1

    /// The next wait in seconds.
    mutating func next() -> Int {
        defer { current = min(current * 2, Self.maximum) }
        return current
    }

    /// After a connection that worked, start from 1 s again.
    mutating func reset() { current = 1 }
}
