import Logging
import Resilience
import Sentinel
import ServiceLifecycle

/// A scenario's simulated backends and traffic on the real clock, so that
/// `sentinel run --workload SCENARIO` can be tried without a service.
///
/// The pipelines are registered with the control plane's registry at once,
/// so scripts see them from their first evaluation; `run` then drives calls
/// through them as they fall due on the plane's clock. Scenario events
/// happen once, at their time after the start; traffic goes on at its last
/// settings after `duration`, until shutdown. The scripts are the
/// ``Sentinel``'s to evaluate, and `expect` does not apply.
///
/// ```swift
/// let workload = try Workload(scenario: scenario, plane: plane, logger: logger)
/// let group = ServiceGroup(services: [sentinel, workload], ...)
/// ```
public final class Workload: Service {
    public let scenario: Scenario
    let plane: ControlPlane
    let logger: Logger
    private let prepared: Locked<CallDriver?>

    /// Builds the scenario's pipelines into the plane's registry.
    ///
    /// - Throws: ``ConfigurationError`` naming the field when a pipeline cannot be built.
    public init(scenario: Scenario, plane: ControlPlane, seed: UInt64? = nil, logger: Logger) throws(ConfigurationError) {
        self.scenario = scenario
        self.plane = plane
        self.logger = logger
        var single = scenario
        single.fleet = nil  // one process: no instance's own backends
        let driver = try CallDriver(single, registries: [plane.registry], time: plane.time, seed: seed ?? scenario.seed)
        prepared = Locked(driver)
    }

    /// The pipelines' names, in the scenario's order.
    public var pipelineNames: [String] { scenario.pipelines.map(\.name) }

    /// Drives calls until cancelled (graceful shutdown).
    public func run() async throws {
        guard var driver = prepared.withLock({ $0.take() }) else { return }
        let origin = plane.time.now()
        driver.origin = origin
        for index in driver.runtimes.indices where driver.runtimes[index].traffic != nil {
            driver.scheduleArrival(index, now: origin)
        }
        for (index, event) in scenario.events.enumerated() {
            driver.queue.schedule(.scenarioEvent, at: origin + Int64((event.at * 1e9).rounded()), a: Int32(index))
        }
        let sampleInterval = Int64((scenario.sample * 1e9).rounded())
        if sampleInterval > 0 { driver.queue.schedule(.sample, at: origin + sampleInterval) }
        logger.info("workload \(scenario.name): \(pipelineNames.joined(separator: ", "))")
        if !scenario.constants.isEmpty {
            // The scripts are the ones `--policies` watches, loaded as they are on disk.
            let files = Set(scenario.constants.map(\.file)).sorted().joined(separator: ", ")
            logger.warning("workload \(scenario.name): its constants (\(files)) apply in simulate only; the scripts run as written")
        }
        if let fleet = scenario.fleet {
            // This process is one instance: its pipelines take the scenario's whole traffic.
            logger.warning(
                "workload \(scenario.name): its fleet (\(fleet.instances) instances, one instance's backends, kills) applies in simulate only; this process runs the pipelines once"
            )
        }

        await cancelWhenGracefulShutdown { [driver] in await self.drive(driver, sampleInterval: sampleInterval) }
    }

    /// Processes events as they fall due on the plane's clock, until cancelled.
    private func drive(_ initial: CallDriver, sampleInterval: Int64) async {
        var driver = initial
        let time = plane.time
        while !Task.isCancelled {
            let now = time.now()
            guard let next = driver.queue.nextTime, next <= now else {
                // Sleep until the next event, but wake at least every 100 ms to notice cancellation.
                let wake = min(driver.queue.nextTime ?? (now + 100_000_000), now + 100_000_000)
                do { try await time.sleep(until: wake) } catch { return }
                continue
            }
            guard let event = driver.queue.next(), !driver.handleCallEvent(event) else { continue }
            switch event.kind {
            case .scenarioEvent: await apply(Int(event.a), &driver, now: event.time)
            case .sample:
                logStats(&driver, now: event.time)
                driver.queue.schedule(.sample, at: event.time + sampleInterval)
            default: break  // the Sentinel evaluates the scripts
            }
        }
    }

    private func apply(_ index: Int, _ driver: inout CallDriver, now: Int64) async {
        let event = scenario.events[index]
        switch event.change {
        case .backend(let target, let spec):
            logger.notice("workload: backend \(target) \(TimelineRenderer.assignments(event.written))")
            driver.setBackend(target, spec, now: now)
        case .traffic(let pipeline, let spec):
            logger.notice("workload: traffic \(pipeline) \(TimelineRenderer.assignments(event.written))")
            driver.setTraffic(pipeline, spec, now: now)
        case .command(let name, let arguments, let reason):
            let outcome = await plane.execute(
                name, arguments,
                context: CommandContext(
                    identity: .operator("workload"), source: "workload", reason: reason ?? "workload event"))
            logger.notice("workload: \(name) \(outcome.outcome.rawValue)")
        case .instanceBackend, .kill:
            break  // a simulated fleet's (warned at the start)
        }
    }

    private func logStats(_ driver: inout CallDriver, now: Int64) {
        for (p, runtime) in driver.outputPipelines.enumerated() {
            let counts = driver.takeSample(p)
            let (calls, failures) = (counts.calls, counts.failures)
            let stats = driver.windows(p).stats(.oneMinute, now: now)
            logger.info(
                "workload \(runtime.name): \(calls) calls, \(formatPercent(calls > 0 ? Double(failures) / Double(calls) : 0)) errors, p99 \(formatSeconds(stats.p99)) (1m)"
            )
        }
    }
}
