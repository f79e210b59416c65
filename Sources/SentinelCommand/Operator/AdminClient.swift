import AsyncHTTPClient
import NIOCore
import NIOSSL

/// The admin API over HTTP: one `HTTPClient` per invocation, shut down on
/// every path (``withClient(_:streaming:_:)``).
///
/// Requests carry `Authorization: Bearer TOKEN`; redirects are not followed (a
/// redirect would carry the token elsewhere); nothing is logged. Connecting
/// may take 5 s and a request 30 s; the event stream has no deadline, and
/// instead gives up on a connection that sent nothing, not even the server's
/// keepalive comment (every 15 s), for 45 s.
struct AdminClient: Sendable {
    let server: ServerURL
    private let http: HTTPClient
    private let token: AdminToken

    static let connectTimeout: TimeAmount = .seconds(5)
    static let requestTimeout: TimeAmount = .seconds(30)
    /// Three missed keepalive comments.
    static let streamIdleTimeout: TimeAmount = .seconds(45)
    /// The largest body read (1,000 audit entries with evidence fit many times).
    static let maximumBodySize = 32 << 20

    private init(server: ServerURL, http: HTTPClient, token: AdminToken) {
        self.server = server
        self.http = http
        self.token = token
    }

    /// Runs `body` with a client for `connection`, and shuts the client down
    /// afterwards, whether `body` returned or threw.
    ///
    /// `streaming` makes a client for the event stream (no read deadline
    /// beyond the idle timeout).
    static func withClient<T>(
        _ connection: AdminConnection, streaming: Bool = false, _ body: (AdminClient) async throws -> T
    ) async throws -> T {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: connectTimeout, read: streaming ? streamIdleTimeout : nil))
        // A refused connection is an answer (no sentinel listens there): say so
        // at once rather than retrying until the connect timeout. Our own
        // retries (a command once, the event stream with backoff) stay.
        configuration.connectionPool.retryConnectionEstablishment = false
        if connection.server.isHTTPS {
            var tls = TLSConfiguration.makeClientConfiguration()
            if let caFile = connection.caFile {
                do {
                    tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
                } catch {
                    throw OperatorFailure(.usage, "--ca-file \(caFile): not a readable PEM file of certificates (\(error))")
                }
            }
            configuration.tlsConfiguration = tls
        }
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let client = AdminClient(server: connection.server, http: http, token: connection.token)
        let result: T
        do {
            result = try await body(client)
        } catch {
            try? await http.shutdown()
            throw error
        }
        try await http.shutdown()
        return result
    }

    // MARK: - Requests

    /// `GET path?query`, the whole body read within the request timeout.
    func get(_ path: String, query: [(name: String, value: String)] = []) async throws(OperatorFailure) -> AdminResponse {
        var request = HTTPClientRequest(url: server.url(path, query: query))
        request.method = .GET
        request.headers.add(name: "Accept", value: "application/json")
        do {
            return try await send(request)
        } catch {
            throw TransportFailure.failure(for: error, server: server, timeout: Self.requestTimeout)
        }
    }

    /// `POST /v1/commands` with `command`'s body.
    ///
    /// A connection reset or a timeout before the answer leaves it open
    /// whether the server applied the command; the same request is sent once
    /// more with the same idempotency key, so that the server answers the
    /// first outcome instead of applying it twice.
    func post(_ command: CommandRequest) async throws(OperatorFailure) -> AdminResponse {
        var request = HTTPClientRequest(url: server.url("/v1/commands"))
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json")
        request.body = .bytes(command.jsonBytes)
        var attempt = 1
        while true {
            do {
                return try await send(request)
            } catch {
                if attempt == 1, !Task.isCancelled, TransportFailure.isRetryable(error) {
                    StandardError.write(
                        "\(TransportFailure.describe(error, timeout: Self.requestTimeout)) before the answer; "
                            + "sending the command once more with the same idempotency key")
                    attempt += 1
                    continue
                }
                throw TransportFailure.failure(for: error, server: server, timeout: Self.requestTimeout)
            }
        }
    }

    /// Opens `GET /v1/events` and returns once the server answered 200;
    /// the caller reads the body as long as it wants.
    func openEvents() async throws(OperatorFailure) -> HTTPClientResponse {
        var request = HTTPClientRequest(url: server.url("/v1/events"))
        request.method = .GET
        request.headers.add(name: "Accept", value: "text/event-stream")
        request.headers.add(name: "Authorization", value: token.authorization)
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, deadline: .distantFuture)
        } catch {
            throw TransportFailure.failure(for: error, server: server, timeout: Self.connectTimeout)
        }
        let status = Int(response.status.code)
        guard status == 200 else {
            // An error body is small: read it within the request timeout for its message.
            let body = try? await response.body.collect(upTo: 64 << 10)
            let bytes = body.map { Array($0.readableBytesView) } ?? []
            throw OperatorFailure.forStatus(status, body: bytes, server: server.base)
                ?? OperatorFailure(.unreachable, "\(server)/v1/events answered HTTP \(status), not an event stream")
        }
        return response
    }

    private func send(_ request: HTTPClientRequest) async throws -> AdminResponse {
        var request = request
        request.headers.add(name: "Authorization", value: token.authorization)
        let deadline = NIODeadline.now() + Self.requestTimeout
        let response = try await http.execute(request, deadline: deadline)
        let body = try await response.body.collect(upTo: Self.maximumBodySize)
        return AdminResponse(status: Int(response.status.code), body: Array(body.readableBytesView), server: server)
    }
}
