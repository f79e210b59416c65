import Logging
import MetricsTestKit
import Resilience
import Sentinel

@testable import SentinelAdmin

/// Every log line (level, message and metadata) of a logger, to look for secrets.
final class LogCapture: Sendable {
    let lines = Locked<[String]>([])

    var logger: Logger {
        var logger = Logger(label: "notifications") { _ in Handler(capture: self) }
        logger.logLevel = .trace
        return logger
    }

    var text: String { lines.withLock { $0.joined(separator: "\n") } }

    private struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
            let fields = merged.keys.sorted().map { "\($0)=\(merged[$0]!)" }.joined(separator: " ")
            capture.lines.withLock { $0.append("\(event.level) \(event.message) \(fields)") }
        }
    }
}

/// A sentinel runtime with a `checkout` pipeline and an alert broadcaster,
/// and a notification service attached to it on a manual clock of its own,
/// with its logs and metrics captured.
struct NotifierHarness {
    let registry = ParameterRegistry()
    let pipeline: Pipeline
    let runtime: SentinelRuntime
    let alerts = AlertBroadcaster()
    /// The notifier's clock: backoffs, rate limits, the drain.
    let clock = ManualClock()
    let service: NotificationService
    let events = Observed<[DeliveryEvent]>([])
    let logs = LogCapture()
    let metrics = TestMetrics()

    var plane: ControlPlane { runtime.plane }

    init(
        _ endpoints: [NotificationEndpoint], drainTimeout: Duration = .seconds(5), intakeBuffer: (audit: Int, alerts: Int)? = nil
    ) throws {
        let planeTime = ClockTimeSource(ManualClock())
        pipeline = try Pipeline("checkout", registry: registry, time: planeTime, seed: 1) {
            Timeout(.milliseconds(500))
            Retry(maxAttempts: 3)
            TrafficSplit([("stable", 100), ("canary", 0)])
        }
        let plane = ControlPlane(registry: registry, time: planeTime, epoch: 1_800_000_000)
        runtime = SentinelRuntime(plane: plane, logger: .silent, alertSink: alerts)
        var options = NotificationService.Options(
            instance: "test-1", drainTimeout: drainTimeout, time: ClockTimeSource(clock), seed: 7, metricsFactory: metrics)
        if let intakeBuffer { options.intakeBuffer = intakeBuffer }
        service = NotificationService(
            configuration: NotificationConfiguration(endpoints: endpoints), attachingTo: runtime, options: options,
            logger: logs.logger)
    }

    /// Runs the service (and a reader of its delivery events) while `body`
    /// runs, then cancels it.
    func running(_ body: () async throws -> Void) async throws {
        let stream = service.deliveryEvents(buffer: 10_000)
        let service = service
        let events = events
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await service.run() }
            group.addTask { for await event in stream { events.update { $0.append(event) } } }
            defer { group.cancelAll() }
            try await body()
        }
    }

    /// Waits until `count` delivery events of `kind` happened; returns those of `kind`.
    @discardableResult
    func waitFor(_ kind: DeliveryEvent.Kind, count: Int = 1) async throws -> [DeliveryEvent] {
        try await events.wait("\(count) \(kind.rawValue) events") { events in events.filter { $0.kind == kind }.count >= count }
            .filter { $0.kind == kind }
    }

    func count(_ kind: DeliveryEvent.Kind) -> Int { events.value.filter { $0.kind == kind }.count }

    /// A metric's total for the endpoint.
    func metric(_ label: String, endpoint: String = "hook") -> Int64 {
        metrics.counterTotal(label: label, dimensions: [("endpoint", endpoint)])
    }
}

extension NotificationEndpoint {
    /// An endpoint posting to `url` with fast retries and a roomy rate limit, for tests.
    static func test(
        _ url: String, name: String = "hook", kind: Kind = .json, events: NotificationEvents = .init(minimumAlertSeverity: .info),
        queue: Int = 64, header: SecretHeader? = nil, timeout: Duration = .seconds(10)
    ) throws -> NotificationEndpoint {
        NotificationEndpoint(
            name: name, url: try WebhookURL(NotificationSecret(url, source: .inline)), kind: kind, events: events, secretHeader: header,
            queueCapacity: queue, rateLimit: .init(count: 10_000, per: .seconds(1)),
            retries: .init(maxRetries: 3, initialDelay: .seconds(1), maxDelay: .seconds(8)), timeout: timeout)
    }
}

extension Alert {
    static func test(_ message: String, severity: Severity = .warning, fields: [String: JSONValue] = [:]) -> Alert {
        Alert(time: 1_800_000_000, source: "script:test", severity: severity, message: message, fields: fields)
    }
}
