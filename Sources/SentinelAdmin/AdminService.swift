import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import Sentinel
import ServiceLifecycle
import UnixSignals

/// The admin HTTP API of a running sentinel, as a swift-service-lifecycle
/// `Service` (see docs/admin-api.md for every endpoint).
///
/// ```swift
/// let admin = try AdminService(
///     subject: AdminSubject(runtime: sentinel.runtime, sentinel: sentinel, instance: "checkout-1"),
///     configuration: AdminConfiguration(address: AdminAddress(parsing: "127.0.0.1:9464"), tokensFile: "tokens.yaml"),
///     logger: logger)
/// let group = ServiceGroup(services: [sentinel, admin], gracefulShutdownSignals: [.sigterm], logger: logger)
/// ```
///
/// The tokens file is read again on SIGHUP. On graceful shutdown the
/// server stops accepting, open event streams end, and `run` returns.
public final class AdminService: Service {
    public let configuration: AdminConfiguration
    let subject: AdminSubject
    let tokens: TokenStore
    let logger: Logger
    let onListening: @Sendable (String) -> Void
    let startedAt = ControlPlane.wallClockNow()

    /// Checks the configuration (TLS or loopback) and reads the tokens file.
    ///
    /// - Parameter onListening: called once with `http://HOST:PORT` (the port
    ///   chosen when the configuration's is 0) when the server listens.
    public init(
        subject: AdminSubject, configuration: AdminConfiguration, logger: Logger,
        onListening: @escaping @Sendable (String) -> Void = { _ in }
    ) throws(AdminConfigurationError) {
        try configuration.checkListener()
        self.configuration = configuration
        self.subject = subject
        self.logger = logger
        self.onListening = onListening
        do {
            tokens = try TokenStore(path: configuration.tokensFile, logger: logger)
        } catch {
            throw AdminConfigurationError("\(error)")
        }
    }

    public func run() async throws {
        let router = makeRouter()
        let http1 = HTTPServerBuilder.http1(
            configuration: .init(idleTimeout: .nanoseconds(configuration.limits.idleTimeout.nanosecondsClamped)))
        let server =
            try configuration.tls.map { tls in try HTTPServerBuilder.tls(http1, tlsConfiguration: try Self.tlsConfiguration(tls)) }
            ?? http1
        let scheme = configuration.tls == nil ? "http" : "https"
        let host = configuration.address.host
        let onListening = self.onListening
        let logger = self.logger
        let app = Application(
            router: router, server: server,
            configuration: .init(address: .hostname(host, port: configuration.address.port), serverName: nil),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                let url = "\(scheme)://\(AdminAddress(host: host, port: port))"
                logger.info("admin listening on \(url)")
                onListening(url)
            },
            logger: logger)
        let tokens = self.tokens
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask {
                for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() { tokens.reload() }
            }
            try await app.run()
            group.cancelAll()
        }
    }

    /// Every route behind the envelope (errors, no-store, counts, timeouts) and authentication.
    func makeRouter() -> Router<AdminRequestContext> {
        let router = Router(context: AdminRequestContext.self)
        let limits = configuration.limits
        router.add(middleware: AdminEnvelopeMiddleware(requestTimeout: limits.requestTimeout))
        var open = Set(["/healthz", "/readyz"] + DashboardRoutes.paths)
        if configuration.metricsPublic { open.insert("/metrics") }
        router.add(
            middleware: AdminAuthMiddleware(
                tokens: tokens, throttle: AuthFailureThrottle(freePerMinute: limits.freeFailuresPerMinute), openPaths: open))
        HealthRoutes(subject: subject).register(on: router)
        DashboardRoutes().register(on: router)
        StateRoutes(subject: subject, startedAt: startedAt).register(on: router)
        AuditRoutes(
            subject: subject, streams: EventStreamLimiter(limit: limits.eventStreams), keepalive: limits.keepalive, tokens: tokens
        )
        .register(on: router)
        CommandRoutes(subject: subject, idempotency: IdempotencyStore(), bodyLimit: limits.bodySize).register(on: router)
        MethodRoutes.refuseOtherMethods(on: router)
        return router
    }

    static func tlsConfiguration(_ tls: AdminConfiguration.TLS) throws -> TLSConfiguration {
        let chain = try NIOSSLCertificate.fromPEMFile(tls.certificate).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(file: tls.key, format: .pem)
        return TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
    }
}

/// Only POST mutates: the other methods on the API's paths are answered 405.
enum MethodRoutes {
    static let readPaths =
        [
            "/healthz", "/readyz", "/metrics", "/v1/whoami", "/v1/status", "/v1/scripts", "/v1/pipelines", "/v1/pipelines/:name",
            "/v1/params", "/v1/trials", "/v1/approvals", "/v1/fleet", "/v1/audit", "/v1/events",
        ] + DashboardRoutes.paths

    static func refuseOtherMethods(on router: Router<AdminRequestContext>) {
        let refuse: @Sendable (Request, AdminRequestContext) async throws -> Response = { request, _ in
            throw AdminError(.methodNotAllowed, "method_not_allowed", "\(request.method) is not allowed on \(request.uri.path.excerpt())")
        }
        for path in readPaths {
            for method in [HTTPRequest.Method.post, .put, .patch, .delete] { router.on(RouterPath(path), method: method, use: refuse) }
        }
        for method in [HTTPRequest.Method.get, .put, .patch, .delete] { router.on("/v1/commands", method: method, use: refuse) }
    }
}
