import AsyncHTTPClient
import NIOCore
import Resilience

/// Posts notification bodies with AsyncHTTPClient: one client for every
/// endpoint, made when the service starts and shut down when it stops.
///
/// Redirects are not followed (they would carry the secret header elsewhere),
/// and a refused connection is an answer at once (the sender's own retries,
/// with backoff, decide what comes next).
struct WebhookClient: Sendable {
    /// What one attempt came to.
    enum Answer: Sendable, Hashable {
        /// The endpoint answered with this status.
        case status(Int)
        /// No answer: no connection, a reset, a timeout (the text is redacted).
        case noAnswer(String)
        /// The service stopped during the attempt.
        case cancelled
    }

    /// The most of an answer's body that is read (then the rest is discarded).
    static let maximumAnswerBytes = 64 << 10

    let http: HTTPClient

    init() {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow, timeout: .init(connect: .seconds(5), read: nil))
        configuration.connectionPool.retryConnectionEstablishment = false
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    func shutdown() async {
        try? await http.shutdown()
    }

    /// POSTs `body` to `endpoint` within its timeout.
    func post(_ body: [UInt8], to endpoint: NotificationEndpoint) async -> Answer {
        var request = HTTPClientRequest(url: endpoint.url.secret.reveal())
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        request.headers.add(name: "User-Agent", value: "sentinel-notifications/\(NotificationBody.version)")
        if let header = endpoint.secretHeader { request.headers.add(name: header.name, value: header.value.reveal()) }
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await http.execute(request, timeout: .nanoseconds(endpoint.timeout.nanosecondsClamped))
            var read = 0
            for try await chunk in response.body {
                read += chunk.readableBytes
                if read > Self.maximumAnswerBytes { break }
            }
            return .status(Int(response.status.code))
        } catch {
            if Task.isCancelled { return .cancelled }
            return .noAnswer(Self.describe(error, endpoint: endpoint))
        }
    }

    /// The error in a few words, with the URL and the header's value taken out.
    static func describe(_ error: any Error, endpoint: NotificationEndpoint) -> String {
        var text: String
        if let error = error as? HTTPClientError {
            if error == .deadlineExceeded || error == .readTimeout || error == .writeTimeout {
                text = "no answer within \(endpoint.timeout)"
            } else if error == .connectTimeout {
                text = "could not connect within 5 seconds"
            } else if error == .remoteConnectionClosed {
                text = "the connection was closed before the answer"
            } else {
                text = "\(error)"
            }
        } else {
            text = "\(error)"
        }
        text = endpoint.url.secret.redact(text)
        if let header = endpoint.secretHeader { text = header.value.redact(text) }
        return text.excerpt(300)
    }
}
