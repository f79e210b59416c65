import ArgumentParser
import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Resilience
import Sentinel
import SentinelAdmin
import SentinelHTTPClient
import SentinelHummingbird
import ServiceLifecycle

/// `checkout-service serve`: the service, its pipelines, the Sentinel and the admin API.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "The checkout service: GET /checkout/ITEM asks the inventory (stable or canary) through a pipeline.",
        discussion: """
            Two pipelines: `api` guards the route (PipelineMiddleware: rate limit, breaker, \
            bulkhead, timeout), `checkout` guards the call to the inventory (timeout, retry, \
            breaker, bulkhead) and splits it between the stable and the canary upstream \
            (stable 100 %, canary 0 % at start). \
            The Sentinel runs the scripts of --policies on the real clock (the canary recipe \
            moves the split), audits to --audit-log, and serves the admin API on --admin.
            """
    )

    @Option(help: "The stable inventory's base URL.")
    var stable: String
    @Option(help: "The canary inventory's base URL.")
    var canary: String
    @Option(help: "Folder of meta-policy scripts (*.lua), watched for changes.")
    var policies: String
    @Option(help: "The address to listen on (loopback by default).")
    var host = "127.0.0.1"
    @Option(help: "The port (0: any free port, printed when listening).")
    var port = 0
    @Option(help: "The admin API's HOST:PORT (loopback; port 0: any free port, printed).")
    var admin = "127.0.0.1:0"
    @Option(name: .customLong("admin-tokens"), help: "The admin API's tokens file (`sentinel token create`).")
    var adminTokens: String
    @Option(name: .customLong("audit-log"), help: "JSON Lines audit log.")
    var auditLog: String?
    @Option(name: .customLong("api-rate"), help: "Requests per second the route admits (its rate limiter).")
    var apiRate = 5000.0

    func validate() throws {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: policies, isDirectory: &isFolder), isFolder.boolValue else {
            throw ValidationError("--policies \(policies): not a folder (give the folder that holds the *.lua scripts)")
        }
        for (flag, url) in [("--stable", stable), ("--canary", canary)] where URL(string: url)?.host == nil {
            throw ValidationError("\(flag) \(url): expected a base URL such as http://127.0.0.1:8081")
        }
        guard apiRate > 0 else { throw ValidationError("--api-rate \(apiRate): expected a positive rate") }
        guard (0...65535).contains(port) else { throw ValidationError("--port \(port): expected 0 to 65535") }
    }

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = label == "sentinel" ? .info : .warning
            return handler
        }
        let logger = Logger(label: "sentinel")
        let metrics = SentinelMetrics.bootstrapPrometheus()

        // 1. The pipelines register their knobs; the recipe moves `checkout.split.*`.
        let registry = ParameterRegistry()
        let api = try Pipeline("api", registry: registry) {
            RateLimit(rate: apiRate, algorithm: .tokenBucket(burst: apiRate / 4 + 1))
            CircuitBreaker(failureRate: 0.5, minimumCalls: 100)
            Bulkhead(maxConcurrent: 1024)
            Timeout(.seconds(5))
        }
        let checkout = try Pipeline("checkout", registry: registry) {
            Timeout(.seconds(2), mode: .cooperative)
            Retry(maxAttempts: 2, baseDelay: .milliseconds(20), maxDelay: .seconds(1))
            CircuitBreaker(failureRate: 0.5, minimumCalls: 100)
            Bulkhead(maxConcurrent: 512)
            TrafficSplit([("stable", 100), ("canary", 0)])
        }

        // 2. The Sentinel: the control plane (audited), the scripts, the admin API.
        var sinks: [any AuditSink] = []
        if let auditLog { sinks.append(try AuditFileSink(AuditFileSink.Configuration(path: auditLog), logger: logger)) }
        let plane = ControlPlane(registry: registry, audit: AuditLog(sinks: sinks, logger: logger))
        let alerts = AlertBroadcaster(forwardingTo: nil)
        let sentinel = Sentinel(plane: plane, configuration: .init(folders: [policies]), logger: logger, alertSink: alerts)
        let adminService = try AdminService(
            subject: AdminSubject(
                runtime: sentinel.runtime, sentinel: sentinel, alerts: alerts, instance: "checkout-1",
                auditFile: auditLog.map { AuditFileSink.Configuration(path: $0) }, metrics: metrics),
            configuration: AdminConfiguration(address: try AdminAddress(parsing: admin), tokensFile: adminTokens),
            logger: logger
        ) { url in writeLine("admin listening on \(url)") }

        // 3. The route: the middleware guards it, the handler calls the inventory through `checkout`.
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)
        let inventory = InventoryClient(
            client: try PipelineHTTPClient(
                pipeline: checkout, httpClient: httpClient, upstreams: ["stable": stable, "canary": canary],
                configuration: .init(attemptTimeout: .seconds(1))))
        let router = Router(context: BasicPipelineRequestContext.self)
        router.get("/healthz") { _, _ in HTTPResponse.Status.ok }
        router.group("checkout")
            .add(middleware: try PipelineMiddleware(pipeline: api))
            .get(":item") { request, context -> Response in
                let item = context.parameters.get("item") ?? ""
                let user = request.headers[.userID]
                return await inventory.stock(of: item, forUser: user)
            }
        var appLogger = Logger(label: "checkout")
        appLogger.logLevel = .warning
        let app = Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: "checkout"),
            onServerRunning: { announceListening("checkout", $0) }, logger: appLogger)

        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: sentinel), .init(service: app), .init(service: adminService)],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            try? await httpClient.shutdown()
            throw error
        }
        try await httpClient.shutdown()
        plane.audit.close()
    }
}

extension HTTPField.Name {
    /// Keeps a user on one variant of the split (sticky routing).
    static let userID = Self("X-User-ID")!
    /// Which inventory answered: stable or canary.
    static let servedBy = Self("X-Served-By")!
}
