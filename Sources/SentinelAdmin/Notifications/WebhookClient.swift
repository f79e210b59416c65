import AsyncHTTPClient
import NIOCore
import Resilience
import Sentinel

#if canImport(Glibc)
import Glibc
#endif

/// Posts notification bodies with AsyncHTTPClient: one client for every
/// endpoint, made when the service starts and shut down when it stops.
///
/// Redirects are not followed (they would carry the secret header elsewhere),
/// and a refused connection is an answer at once (the sender's own retries,
/// with backoff, decide what comes next). An endpoint's timeout covers the
/// whole request: connecting, sending, the answer's head and its body.
struct WebhookClient: Sendable {
    /// What one attempt came to.
    enum Answer: Sendable, Hashable {
        /// The endpoint answered with this status (and, for a 429 or a 503,
        /// how long it asked to wait before the next attempt).
        case status(Int, retryAfter: Duration? = nil)
        /// No answer: no connection, a reset, a timeout (the text is redacted).
        case noAnswer(String)
        /// The service stopped during the attempt.
        case cancelled
    }

    /// The most of an answer's body that is read (then the rest is discarded).
    static let maximumAnswerBytes = 64 << 10

    let http: HTTPClient

    /// - Parameter connectTimeout: the longest any endpoint may spend
    ///   connecting (its own timeout bounds each request, connecting included).
    init(connectTimeout: Duration = .seconds(10)) {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .nanoseconds(max(1, connectTimeout.nanosecondsClamped)), read: nil))
        configuration.connectionPool.retryConnectionEstablishment = false
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    func shutdown() async {
        try? await http.shutdown()
    }

    /// POSTs `body` to `endpoint` within its timeout.
    ///
    /// The status decides: once the head has arrived, the body is read (at
    /// most ``maximumAnswerBytes``, within what is left of the timeout) only
    /// so the connection can be used again, and an error or a stall while
    /// reading it changes nothing (a 2xx is delivered, never sent twice).
    func post(_ body: [UInt8], to endpoint: NotificationEndpoint) async -> Answer {
        var request = HTTPClientRequest(url: endpoint.url.secret.reveal())
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        request.headers.add(name: "User-Agent", value: "sentinel-notifications/\(NotificationBody.version)")
        if let header = endpoint.secretHeader { request.headers.add(name: header.name, value: header.value.reveal()) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let timeout = endpoint.timeout.nanosecondsClamped
        let deadline = NIODeadline.now() + .nanoseconds(timeout)
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, deadline: deadline)
        } catch {
            if Task.isCancelled { return .cancelled }
            return .noAnswer(Self.describe(error, endpoint: endpoint))
        }
        let status = Int(response.status.code)
        var retryAfter: Duration?
        if status == 429 || status == 503, let value = response.headers.first(name: "Retry-After") {
            retryAfter = Self.retryAfter(value, now: Self.wallClockSeconds())
        }
        await Self.discard(response.body, until: deadline)
        return .status(status, retryAfter: retryAfter)
    }

    /// Reads and discards `body` until it ends, ``maximumAnswerBytes`` were
    /// read, an error, or `deadline`, whichever comes first; a body left
    /// unread closes its connection.
    static func discard(_ body: HTTPClientResponse.Body, until deadline: NIODeadline) async {
        let left = (deadline - NIODeadline.now()).nanoseconds
        guard left > 0 else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                var read = 0
                do {
                    for try await chunk in body {
                        read += chunk.readableBytes
                        if read > maximumAnswerBytes { return }
                    }
                } catch {}
            }
            group.addTask {
                try? await Task.sleep(for: .nanoseconds(left))
            }
            _ = await group.next()
            group.cancelAll()
        }
    }

    // MARK: - Retry-After

    /// A `Retry-After` value: delay-seconds (`120`) or an HTTP date
    /// (`Wed, 21 Oct 2026 07:28:00 GMT`), as the time from `now` (Unix
    /// seconds); nil when it is neither. A date in the past is no wait.
    static func retryAfter(_ value: String, now: Double) -> Duration? {
        let text = value.trimmingWhitespace()
        if !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }) {
            return .seconds(Int64(text.prefix(12)) ?? .max)
        }
        guard let date = httpDate(text) else { return nil }
        return .secondsClamped(max(0, date - now))
    }

    /// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) as Unix seconds.
    static func httpDate(_ text: String) -> Double? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, parts[0].hasSuffix(","), parts[5] == "GMT" else { return nil }
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        guard let month = months.firstIndex(of: String(parts[2])), parts[1].count == 2, parts[3].count == 4,
            parts[4].count == 8, parts[1].allSatisfy(\.isNumber), parts[3].allSatisfy(\.isNumber)
        else { return nil }
        return RFC3339.unixSeconds(from: "\(parts[3])-\(month < 9 ? "0" : "")\(month + 1)-\(parts[1])T\(parts[4])Z")
    }

    /// The wall clock, in Unix seconds (for an HTTP date).
    static func wallClockSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    // MARK: - Errors

    /// The error in a few words, with the URL, its path and the header's value taken out.
    static func describe(_ error: any Error, endpoint: NotificationEndpoint) -> String {
        var text: String
        if let error = error as? HTTPClientError {
            if error == .deadlineExceeded || error == .readTimeout || error == .writeTimeout || error == .connectTimeout {
                text = "no answer within \(endpoint.timeout)"
            } else if error == .remoteConnectionClosed {
                text = "the connection was closed before the answer"
            } else {
                text = "\(error)"
            }
        } else {
            text = "\(error)"
        }
        text = endpoint.url.secret.redact(text)
        if let path = endpoint.url.pathSecret { text = path.redact(text) }
        if let header = endpoint.secretHeader { text = header.value.redact(text) }
        return text.excerpt(300)
    }
}
