import Logging
import Metrics
import Resilience
import Sentinel
import ServiceLifecycle

/// Webhook notifications of a running sentinel, as a swift-service-lifecycle
/// `Service`: alerts, audit entries and approval requests, posted to each
/// configured endpoint in its kind (JSON or Slack), off the engine's path.
///
/// ```swift
/// let notifications = NotificationService(
///     configuration: try NotificationConfiguration(yaml: configText, file: "sentinel.yaml"),
///     attachingTo: runtime, options: .init(instance: "checkout-1"), logger: logger)
/// let group = ServiceGroup(services: [notifications, sentinel], gracefulShutdownSignals: [.sigterm], logger: logger)
/// ```
///
/// **Never in the way.** The service subscribes to the audit log and the
/// alert broadcaster when it is made; an evaluation only yields into those
/// streams. Each endpoint has a bounded queue (``NotificationEndpoint/queueCapacity``)
/// and a sender of its own: a slow or dead endpoint fills its own queue,
/// whose overflow is dropped and counted, and delays nothing else. Should
/// the intake itself fall behind (more than 4,096 audit entries or 1,024
/// alerts unread), the oldest unread are dropped and counted for every
/// endpoint that selects them.
///
/// **Delivery.** In order per endpoint, within its rate limit; retried with
/// exponential backoff and jitter after a 5xx, 408 or 429 answer or no
/// answer (a 429's or 503's `Retry-After` is honoured, up to the longest
/// backoff); given up after the retries (counted as failed). The endpoint's
/// timeout bounds each request, connecting and the answer's body included.
/// A gate's `approval.request` is sent once per opening: the gates audit it
/// when a script opens the gate, not at every evaluation that waits on it.
///
/// **Shutdown.** On graceful shutdown it reads what was appended before it,
/// sends what is queued (retries included) for at most
/// ``Options/drainTimeout``, then drops the rest (counted) and returns. Put
/// it before the ``Sentinel`` in the service group, so it stops after the
/// sentinel's last evaluation and hears its decisions.
///
/// Metrics (labelled `endpoint`): `sentinel_notifications_delivered_total`,
/// `sentinel_notifications_retried_total`, `sentinel_notifications_dropped_total`,
/// `sentinel_notifications_failed_total`, the gauge `sentinel_notifications_queued`.
public final class NotificationService: Service, Sendable {
    /// How the service runs.
    public struct Options: Sendable {
        /// Names this sentinel in every body (`instance`); nil: not named.
        public var instance: String?
        /// How long a graceful shutdown may spend sending what is queued.
        public var drainTimeout: Duration
        /// The clock of backoffs, rate limits and the drain (a manual one in tests).
        public var time: any TimeSource
        /// Seeds the backoff's jitter; nil: a random seed.
        public var seed: UInt64?
        /// Where the counters go; nil: the process's `MetricsSystem`.
        public var metricsFactory: (any MetricsFactory)?
        /// How many unread audit entries and alerts the intake holds; older
        /// ones are dropped (and counted) past that. Small in tests.
        var intakeBuffer = (audit: 4096, alerts: 1024)

        public init(
            instance: String? = nil, drainTimeout: Duration = .seconds(5), time: any TimeSource = MonotonicTimeSource(),
            seed: UInt64? = nil, metricsFactory: (any MetricsFactory)? = nil
        ) {
            self.instance = instance
            self.drainTimeout = drainTimeout
            self.time = time
            self.seed = seed
            self.metricsFactory = metricsFactory
        }
    }

    public let configuration: NotificationConfiguration
    public let options: Options
    let senders: [EndpointSender]
    private let audit: AuditLog
    private let alerts: AlertBroadcaster?
    private let auditStream: AsyncStream<AuditEntry>
    private let alertStream: AsyncStream<Alert>?
    /// The log's and the broadcaster's counts when the streams were opened.
    private let auditBase: Int
    private let alertBase: Int
    private let progress = IntakeProgress()
    private let reports: Locked<Reports>
    /// Set when ``run()`` starts: it runs once.
    private let started = Locked(false)
    private let logger: Logger

    /// Makes the service and subscribes to `audit` and `alerts` at once, so
    /// nothing between now and ``run()`` is missed.
    ///
    /// - Parameters:
    ///   - audit: the control plane's audit log (decisions, approval requests).
    ///   - alerts: the broadcaster the runtime sends alerts to; nil: no alerts.
    public init(
        configuration: NotificationConfiguration, audit: AuditLog, alerts: AlertBroadcaster?, options: Options = Options(),
        logger: Logger
    ) {
        self.configuration = configuration
        self.options = options
        self.audit = audit
        self.alerts = alerts
        self.logger = logger
        let seed = options.seed ?? UInt64.random(in: 0...UInt64.max)
        let factory = options.metricsFactory ?? MetricsSystem.factory
        var senders: [EndpointSender] = []
        let reports = Locked(Reports())
        self.reports = reports
        for (index, endpoint) in configuration.endpoints.enumerated() {
            senders.append(
                EndpointSender(
                    endpoint: endpoint, time: options.time, seed: seed &+ UInt64(index), instance: options.instance,
                    metrics: NotificationMetrics(endpoint: endpoint.name, factory: factory), logger: logger,
                    report: { event in
                        for reader in reports.withLock({ Array($0.continuations.values) }) { reader.yield(event) }
                    }))
        }
        self.senders = senders
        let allSenders = senders
        // What the intake's subscriptions lose when it falls behind is
        // dropped (counted) for every endpoint that selects it, and counts
        // as read for the drain: it will never arrive.
        let progress = progress
        let (auditBuffer, alertBuffer) = options.intakeBuffer
        let lost: @Sendable (NotificationEvent, Int) -> Void = { event, buffer in
            for sender in allSenders where sender.endpoint.events.matches(event) {
                sender.drop(event, reason: "the notifier fell behind (\(buffer) unread); the oldest was dropped")
            }
        }
        // The stream is subscribed first, the count read after: an entry in
        // between is both counted and read, so the drain never waits for one
        // it will not see.
        auditStream = audit.subscribe(
            buffer: auditBuffer,
            overflow: { entry in
                lost(NotificationEvent(entry), auditBuffer)
                progress.readAudit()
            })
        auditBase = audit.statistics.appended
        alertStream = alerts?.subscribe(
            buffer: alertBuffer,
            overflow: { alert in
                lost(.alert(alert), alertBuffer)
                progress.readAlert()
            })
        alertBase = alerts?.sent ?? 0
        if alerts == nil, let endpoint = configuration.endpoints.first(where: { $0.events.minimumAlertSeverity != nil }) {
            logger.warning(
                "notifications: endpoint \(endpoint.name) wants alerts, but no AlertBroadcaster was given: alerts are not sent")
        }
    }

    /// Attaches to `runtime`: its audit log, and its alert sink when that is
    /// an ``AlertBroadcaster`` (make the runtime with
    /// `alertSink: AlertBroadcaster(forwardingTo: yourSink)`).
    public convenience init(
        configuration: NotificationConfiguration, attachingTo runtime: SentinelRuntime, options: Options = Options(), logger: Logger
    ) {
        self.init(
            configuration: configuration, audit: runtime.plane.audit, alerts: runtime.alertSink as? AlertBroadcaster,
            options: options, logger: logger)
    }

    // MARK: - Reading

    /// Each endpoint's counters, by name.
    public func statistics() -> [String: NotificationStatistics] {
        Dictionary(senders.map { ($0.endpoint.name, $0.statistics) }, uniquingKeysWith: { first, _ in first })
    }

    /// Every delivery event from now on (delivered, retried, dropped,
    /// failed), as it happens; the newest `buffer` are kept for a slow reader.
    /// The stream finishes when ``run()`` returns (at once when it has).
    public func deliveryEvents(buffer: Int = 1024) -> AsyncStream<DeliveryEvent> {
        let (stream, continuation) = AsyncStream<DeliveryEvent>.makeStream(bufferingPolicy: .bufferingNewest(buffer))
        let id = reports.withLock { state -> UInt64? in
            guard !state.finished else { return nil }
            state.next += 1
            state.continuations[state.next] = continuation
            return state.next
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.reports.withLock { $0.continuations.removeValue(forKey: id) }
        }
        return stream
    }

    // MARK: - Taking events

    /// Sends `event` to every endpoint that selects it (as the audit and the
    /// alerts do); never waits. After ``run()`` has returned, it is counted
    /// as dropped (`the service has stopped`).
    public func notify(_ event: NotificationEvent) {
        for sender in senders where sender.endpoint.events.matches(event) { sender.offer(event) }
    }

    // MARK: - Running

    /// Sends until graceful shutdown, then drains (bounded by
    /// ``Options/drainTimeout``); on cancellation stops at once. Run it once:
    /// a second call throws ``NotificationServiceError``.
    public func run() async throws {
        let first = started.withLock { started -> Bool in
            defer { started = true }
            return !started
        }
        guard first else { throw NotificationServiceError("NotificationService.run() was called again; a service runs once") }
        defer { finishReports() }
        let longest = configuration.endpoints.map(\.timeout).max() ?? .seconds(10)
        let client = WebhookClient(connectTimeout: longest)
        let time = options.time
        let drainTimeout = options.drainTimeout
        let logger = logger
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.intakeAndSend(client) }
            group.addTask {
                do { try await gracefulShutdown() } catch { return }
                do {
                    try await time.sleep(until: time.now() &+ drainTimeout.nanosecondsClamped)
                    logger.warning("notifications: the drain took longer than \(drainTimeout); what is left is dropped")
                } catch {}
            }
            _ = await group.next()
            group.cancelAll()
        }
        await client.shutdown()
        let total = statistics().values.reduce(into: NotificationStatistics()) { total, each in
            total.delivered += each.delivered
            total.failed += each.failed
            total.dropped += each.dropped
        }
        logger.info(
            "notifications stopped: \(total.delivered) delivered, \(total.failed) failed, \(total.dropped) dropped")
    }

    /// Finishes every ``deliveryEvents(buffer:)`` stream, and those asked for later.
    private func finishReports() {
        let readers = reports.withLock { state -> [AsyncStream<DeliveryEvent>.Continuation] in
            state.finished = true
            defer { state.continuations.removeAll() }
            return Array(state.continuations.values)
        }
        for reader in readers { reader.finish() }
    }

    /// The senders, and the intake until it has read everything before the shutdown.
    private func intakeAndSend(_ client: WebhookClient) async {
        await withTaskGroup(of: Void.self) { group in
            for sender in senders { group.addTask { await sender.run(client) } }
            await intake()
            for sender in senders { sender.queue.close() }
            await group.waitForAll()
        }
    }

    /// Reads the audit and the alerts until graceful shutdown and a little
    /// after: until everything appended before the shutdown has been read.
    private func intake() async {
        let audit = audit
        let alerts = alerts
        let auditBase = auditBase
        let alertBase = alertBase
        let progress = progress
        await withTaskGroup(of: Void.self) { group in
            let auditStream = auditStream
            group.addTask {
                for await entry in auditStream {
                    // A fleet's decision is notified by the instance that made it, not again by each that applies it.
                    if entry.correlationID?.hasPrefix("fleet:") != true { self.notify(NotificationEvent(entry)) }
                    progress.readAudit()
                }
            }
            if let alertStream {
                group.addTask {
                    for await alert in alertStream {
                        self.notify(.alert(alert))
                        progress.readAlert()
                    }
                }
            }
            group.addTask {
                do { try await gracefulShutdown() } catch { return }
                await progress.waitUntilRead(
                    audit: audit.statistics.appended - auditBase, alerts: (alerts?.sent ?? alertBase) - alertBase)
            }
            _ = await group.next()
            group.cancelAll()
        }
    }

    /// The readers of ``deliveryEvents(buffer:)``.
    private struct Reports {
        var next: UInt64 = 0
        var continuations: [UInt64: AsyncStream<DeliveryEvent>.Continuation] = [:]
        /// ``run()`` has returned: no more events.
        var finished = false
    }
}

/// ``NotificationService/run()`` was misused (called a second time).
public struct NotificationServiceError: Error, Sendable, CustomStringConvertible {
    public var message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}
