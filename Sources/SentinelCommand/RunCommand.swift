import ArgumentParser
import Logging
import Resilience
import Sentinel
import SentinelAdmin
import SentinelFleet
import ServiceLifecycle
import Simulation

/// `sentinel run --policies DIR ...`
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a live sentinel on the real clock, hot-reloading its policies.",
        discussion: """
            Evaluates every script in the policies folder on its interval and applies its \
            commands through the control plane (authorized, guarded, audited). Edits to the \
            folder are picked up at once (inotify; polling where unavailable) and on SIGHUP; a \
            broken edit never replaces a working script. A script that fails to load is logged \
            and audited, and the others run. SIGINT or SIGTERM: the running evaluation \
            finishes, the audit is flushed, the state is saved, exit 0.

            Without a service of your own there are no pipelines: useful to try rules and \
            reloads. `--workload SCENARIO` builds a scenario's pipelines and drives its \
            simulated backends and traffic on the real clock (docs/scenarios.md), so the \
            rules act on something. Embed the Sentinel in your service to act on real \
            pipelines (docs/embedding.md).

            Examples:
              sentinel run --policies policies --config sentinel.yaml \\
                --state-file /var/lib/sentinel/state.json --audit-log /var/log/sentinel/audit.jsonl
              sentinel run --policies examples/recipes/canary --workload examples/recipes/canary/healthy.yaml
            """
    )

    @Option(help: "Folder of meta-policy scripts (*.lua), watched for changes.")
    var policies: String

    @Option(help: "YAML file with roles, grants, guards, script limits and notifications.")
    var config: String?

    @Option(name: .customLong("state-file"), help: "Where knob values and the freeze are saved and restored.")
    var stateFile: String?

    @Option(name: .customLong("audit-log"), help: "JSON Lines audit log (appended, rotated by size).")
    var auditLog: String?

    @Option(name: .customLong("alert-log"), help: "JSON Lines file for alerts (besides the log).")
    var alertLog: String?

    @Option(help: "A scenario file whose pipelines, backends and traffic run on the real clock.")
    var workload: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @OptionGroup(title: "Admin API")
    var admin: AdminOptions

    @OptionGroup(title: "Fleet")
    var fleet: FleetOptions

    func validate() throws {
        var info = stat()
        guard stat(policies, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw ValidationError("--policies \(policies): not a folder (give the folder that holds the *.lua scripts)")
        }
        if let config, stat(config, &info) != 0 {
            throw ValidationError("--config \(config): no such file")
        }
        if let workload, stat(workload, &info) != 0 {
            throw ValidationError("--workload \(workload): no such file")
        }
        try fleet.validate(instance: admin.instance, stateFile: stateFile)
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level \(logLevel): expected trace, debug, info, notice, warning, error or critical")
        }
    }

    func run() async throws {
        // Before anything is read: a SIGTERM during a slow start (a large
        // config, a scenario) ends the process cleanly, not by the signal.
        Self.exitCleanlyOnSignalsUntilStarted()
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "sentinel")
        // Before the first metric is made: with the admin API, every metric is Prometheus's.
        let metrics = admin.address == nil ? nil : SentinelMetrics.bootstrapPrometheus()

        var scenario: Scenario?
        if let workload {
            do {
                scenario = try Scenario(yaml: try readText(workload), file: workload)
            } catch {
                printError("\(error)")
                throw ExitCode.usage
            }
        }
        // The scenario's control section applies unless --config gives one.
        var configuration = scenario?.control ?? ControlPlaneConfiguration()
        var notifications = NotificationConfiguration()
        if let config {
            do {
                // One file, two readers: the control plane's fields, and the
                // `notifications` section, which the control plane leaves alone.
                let root = try YAMLValue.parse(try readText(config), file: config)
                configuration = try ControlPlaneConfiguration(node: root, otherSections: [NotificationConfiguration.section])
                notifications = try NotificationConfiguration(root: root)
            } catch {
                printError("\(error)")
                throw ExitCode.usage
            }
        }
        var sinks: [any AuditSink] = []
        if let auditLog {
            do {
                sinks.append(try AuditFileSink(AuditFileSink.Configuration(path: auditLog), logger: logger))
            } catch {
                printError("--audit-log \(auditLog): \(error)")
                throw ExitCode.usage
            }
        }
        var alertFile: (any AlertSink)?
        if let alertLog {
            do {
                alertFile = try JSONLinesAlertSink(path: alertLog)
            } catch {
                printError("--alert-log \(alertLog): \(error)")
                throw ExitCode.usage
            }
        }
        // Alerts go to the file and to the admin API's event stream.
        let alerts = AlertBroadcaster(forwardingTo: alertFile)
        let registry = ParameterRegistry()
        let plane = ControlPlane(registry: registry, audit: AuditLog(sinks: sinks, logger: logger))
        plane.configure(configuration)
        var services: [any Service] = []
        if let scenario {
            do {
                let driver = try Workload(scenario: scenario, plane: plane, logger: logger)
                services.append(driver)
            } catch {
                printError("\(error)")
                throw ExitCode.usage
            }
        }
        let runtime = SentinelRuntime(
            plane: plane, settings: .init(limits: configuration.limits), logger: logger, alertSink: alerts)
        var member: FleetMember?
        do {
            if let database = try fleet.database() {
                let instance = admin.instanceName
                member = FleetMember(
                    runtime: runtime, database: database,
                    configuration: .init(
                        instance: instance, lease: fleet.leaseDuration,
                        renewEvery: min(.seconds(1), fleet.leaseDuration / 5)),
                    logger: logger)
                logger.info("fleet: \(instance) joins \(database)")
            }
        } catch {
            printError("\(error)")
            throw ExitCode.usage
        }
        // Before the sentinel: it stops after it, and writes the sentinel's last decisions.
        if let member {
            services.append(member)
        } else {
            let instance = admin.instanceName
            await runtime.engine.setFleetProvider { ["instances": 1, "leader": .string(instance), "term": 0] }
        }
        let sentinel = Sentinel(
            runtime: runtime,
            configuration: .init(folders: [policies], stateFile: stateFile, limits: configuration.limits),
            logger: logger, authority: member)
        services.append(sentinel)
        if !notifications.endpoints.isEmpty {
            // First in the group, so it stops last: it hears the sentinel's final decisions, then drains.
            let notifier = NotificationService(
                configuration: notifications, attachingTo: sentinel.runtime, options: .init(instance: admin.instanceName),
                logger: logger)
            services.insert(notifier, at: 0)
            logger.info(
                "notifications: \(notifications.endpoints.map { "\($0.name) (\($0.kind.rawValue), \($0.url))" }.joined(separator: ", "))")
        }
        do {
            if let adminConfiguration = try admin.configuration() {
                let subject = AdminSubject(
                    runtime: sentinel.runtime, sentinel: sentinel, alerts: alerts, instance: admin.instanceName,
                    auditFile: auditLog.map { AuditFileSink.Configuration(path: $0) }, metrics: metrics, fleet: member)
                services.append(
                    try AdminService(subject: subject, configuration: adminConfiguration, logger: logger) { url in
                        // One line on standard output, written at once, for scripts that wait for it.
                        let line = "admin listening on \(url)\n"
                        _ = line.withCString { write(1, $0, strlen($0)) }
                    })
            }
        } catch {
            printError("\(error)")
            throw ExitCode.usage
        }
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        logger.info("sentinel running: policies \(policies)")
        try await group.run()
        plane.audit.close()
        for loss in plane.audit.lostAtClose { logger.error("\(loss)") }
    }

    /// Until the service group takes SIGTERM and SIGINT over (it replaces
    /// these handlers when it starts), either signal exits 0 at once: nothing
    /// has been evaluated, changed or saved yet, so there is nothing to finish.
    static func exitCleanlyOnSignalsUntilStarted() {
        for number in [SIGTERM, SIGINT] {
            _ = signal(number) { _ in
                // Only async-signal-safe calls here: write(2) and _exit(2).
                let message: StaticString = "sentinel: stopped by a signal while starting; nothing was changed\n"
                _ = write(2, message.utf8Start, message.utf8CodeUnitCount)
                _exit(0)
            }
        }
    }

    private func printError(_ message: String) {
        let line = message + "\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
    }

    private func readText(_ path: String) throws -> String {
        switch ScriptFile.read(path: path, maximumFileSize: 4 << 20) {
        case .success(let file):
            switch file.text {
            case .success(let text): return text
            case .failure(let invalid): throw ConfigurationError(file: path, line: invalid.line, message: "\(invalid)")
            }
        case .failure(let error):
            throw ConfigurationError(file: path, message: error.message)
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
