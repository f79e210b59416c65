import Hummingbird
import Metrics
import NIOCore
import Resilience
import Sentinel

/// `GET /v1/audit` (what was decided, filtered) and `GET /v1/events` (what is
/// decided, as it happens, by Server-Sent Events).
struct AuditRoutes {
    let subject: AdminSubject
    let streams: EventStreamLimiter
    let keepalive: Duration
    /// Streams end once their token is revoked (a SIGHUP reload without it).
    let tokens: TokenStore

    func register(on router: Router<AdminRequestContext>) {
        router.get("/v1/audit") { request, _ in try audit(request) }
        router.get("/v1/events") { request, _ in try events(request) }
    }

    // MARK: - /v1/audit

    static let defaultLimit = 100
    static let maximumLimit = 1000

    /// Reads the query: `since`, `until` (RFC 3339), `actor`, `action`, `outcome`, `limit`.
    static func query(_ request: Request) throws -> AuditQuery {
        let allowed: Set<String> = ["since", "until", "actor", "action", "outcome", "limit"]
        var query = AuditQuery(limit: defaultLimit)
        for (key, value) in request.uri.queryParameters {
            let name = String(key), text = String(value)
            guard allowed.contains(name) else {
                throw AdminError(
                    .badRequest, "bad_request",
                    "unknown query parameter '\(name.excerpt())' (expected \(allowed.sorted().joined(separator: ", ")))")
            }
            switch name {
            case "since", "until":
                guard let seconds = RFC3339.unixSeconds(from: text) else {
                    throw AdminError(
                        .badRequest, "bad_request",
                        "\(name): expected an RFC 3339 time like 2026-12-04T10:00:00Z, got \"\(text.excerpt())\"")
                }
                if name == "since" { query.since = seconds } else { query.until = seconds }
            case "actor": query.actor = text
            case "action": query.action = text
            case "outcome":
                guard let outcome = AuditOutcome(rawValue: text) else {
                    throw AdminError(
                        .badRequest, "bad_request",
                        "outcome: expected one of \(AuditOutcome.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                query.outcomes = [outcome]
            default:
                guard let limit = Int(text), (1...maximumLimit).contains(limit) else {
                    throw AdminError(
                        .badRequest, "bad_request", "limit: expected a whole number from 1 to \(maximumLimit), got \"\(text.excerpt())\"")
                }
                query.limit = limit
            }
        }
        return query
    }

    func audit(_ request: Request) throws -> Response {
        let query = try Self.query(request)
        let entries: [AuditEntry]
        let source: String
        if let file = subject.auditFile {
            // From the end of the newest file back, only as far as the limit needs:
            // a request's cost does not grow with the audit.
            do {
                entries = try AuditFileReader(path: file.path).newest(matching: query, maxRotatedFiles: file.maxRotatedFiles)
            } catch {
                throw AdminError(.internalServerError, "failed", "the audit file cannot be read: \(error)")
            }
            source = "file"
        } else {
            entries = subject.plane.audit.entries(matching: query)
            source = "memory"
        }
        return AdminResponse.json(["entries": .array(entries.map(\.jsonValue)), "source": .string(source)])
    }

    // MARK: - /v1/events

    func events(_ request: Request) throws -> Response {
        // The middleware accepted this token; it is checked again before every write.
        let token = AdminAuthMiddleware.bearer(request.headers[.authorization])
        let tokens = self.tokens
        let stillAuthorized: @Sendable () -> Bool = { token.map { tokens.identify($0) != nil } ?? false }
        guard streams.open() else {
            throw AdminError(.serviceUnavailable, "too_many_streams", "\(streams.limit) event streams are open already")
        }
        let audit = subject.plane.audit.subscribe()
        let alerts = subject.alerts?.subscribe()
        let keepalive = self.keepalive
        let streams = self.streams
        let body = ResponseBody { writer in
            defer { streams.close() }
            try await EventStream.write(
                audit: audit, alerts: alerts, keepalive: keepalive, stillAuthorized: stillAuthorized, to: &writer)
        }
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-store"],
            body: body)
    }
}

/// How many event streams are open, against the limit.
final class EventStreamLimiter: Sendable {
    let limit: Int
    private let count = Locked(0)
    private let gauge = Gauge(label: "sentinel_admin_event_streams")

    init(limit: Int) { self.limit = limit }

    func open() -> Bool {
        let opened = count.withLock { count -> Int? in
            guard count < limit else { return nil }
            count += 1
            return count
        }
        if let opened { gauge.record(opened) }
        return opened != nil
    }

    func close() {
        gauge.record(
            count.withLock { count -> Int in
                count = max(0, count - 1)
                return count
            })
    }
}
