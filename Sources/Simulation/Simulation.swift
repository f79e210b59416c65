import Logging
import Resilience
import Sentinel

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A scenario run on virtual time: the real pipelines, observer, control
/// plane and Lua scripts, with simulated backends and traffic.
///
/// Calls are driven through ``Resilience/Pipeline``'s simulated entry points
/// (the same admission and settlement code as `execute`), as discrete events
/// on one queue: no task per call, no wall clock. The same scenario and seed
/// give the same output, byte for byte.
///
/// ```swift
/// let scenario = try Scenario(yaml: text, file: "canary.yaml")
/// let simulation = try Simulation(scenario: scenario, policies: "examples/recipes/canary")
/// let report = await simulation.run { event in print(event.json) }
/// ```
public final class Simulation {
    public let scenario: Scenario
    /// The seed in use (the scenario's, or the override).
    public let seed: UInt64
    let policies: String
    let clock = ManualClock()
    /// The service's processes: one, or a fleet's instances.
    let instances: [SimulatedInstance]
    /// The instance that decides: the fleet's leader, or the first alive while it has none.
    var current = 0 {
        didSet {
            deciding.withLock { [current] in $0 = current }
            capture.follow(instances[current].registry)
            capture.observeAllKnobs()
        }
    }
    /// ``current``, for the instances' audit sinks: only the deciding instance's entries are output.
    private let deciding = Locked(0)
    /// What the fleet shares (nil without a fleet).
    var fleet: SimulatedFleetStore?
    /// `state.fleet` as every instance's scripts read it.
    let fleetView = Locked<[String: JSONValue]>([:])
    var registry: ParameterRegistry { instances[current].registry }
    /// The control plane, the trials and the scripts, as `sentinel run` builds them (the deciding instance's).
    var runtime: SentinelRuntime { instances[current].runtime }
    var plane: ControlPlane { runtime.plane }
    var engine: ScriptEngine { runtime.engine }
    var trials: TrialRunner { runtime.trials }
    let capture: AuditCapture
    /// The trial evaluation scheduled on the queue, if any (later ones replace it).
    var scheduledTrialTick: Int64?
    let end: Int64

    /// Set up by `init`; moved into `run` while it runs.
    var driver: CallDriver
    var runErrors: [String] = []
    private var hasRun = false
    /// What a report needs, kept while the run goes (see ``recordForReport()``).
    var recorder: RunRecorder?

    /// Builds the pipelines and the control plane of a scenario.
    ///
    /// - Parameters:
    ///   - policies: the folder of Lua scripts (already resolved against the scenario's folder).
    ///   - seed: overrides the scenario's seed.
    ///   - logger: where the scripts' log lines and the runtime's messages go
    ///     (the run's own output is its events).
    /// - Throws: ``ConfigurationError`` naming the field when the scenario cannot be built
    ///   (a policy setting outside its bounds, an expectation about an unknown knob).
    public init(scenario: Scenario, policies: String, seed: UInt64? = nil, logger: Logger) throws(ConfigurationError) {
        self.scenario = scenario
        self.policies = policies
        self.seed = seed ?? scenario.seed
        end = Int64((scenario.duration * 1e9).rounded())
        let registries = (0..<(scenario.fleet?.instances ?? 1)).map { _ in ParameterRegistry() }
        let capture = AuditCapture(registry: registries[0])
        self.capture = capture
        let seed = self.seed, clock = self.clock, deciding = self.deciding
        instances = registries.enumerated().map { index, registry in
            let sink: any AuditSink =
                registries.count == 1 ? capture : DecidingInstanceAudit(capture: capture, instance: index, deciding: deciding)
            let plane = ControlPlane(
                registry: registry, audit: AuditLog(sinks: [sink], logger: logger), time: ClockTimeSource(clock),
                epoch: scenario.start)
            plane.configure(scenario.control)
            // The first instance's scripts draw what a single process's draw.
            let scriptSeed = index == 0 ? seed : Self.mix(seed, FleetSpec.name(of: index), 4)
            let runtime = SentinelRuntime(
                plane: plane, settings: .init(limits: scenario.control.limits, seed: Int64(bitPattern: scriptSeed)), logger: logger)
            return SimulatedInstance(index: index, registry: registry, runtime: runtime)
        }
        driver = try CallDriver(scenario, registries: registries, time: ClockTimeSource(clock), seed: self.seed)
        if let spec = scenario.fleet { fleet = SimulatedFleetStore(lease: spec.lease) }
        capture.observeAllKnobs()
        try checkExpectations()
    }

    // MARK: - Building

    private func checkExpectations() throws(ConfigurationError) {
        let known = Set(registry.parameters().map(\.name))
        for expectation in scenario.expectations {
            switch expectation.subject {
            case .param(let name), .paramMax(let name), .paramMin(let name):
                guard known.contains(name) else {
                    throw expectation.location.error("no knob named \(name) (knobs: \(known.sorted().joined(separator: ", ")))")
                }
            default: break
            }
        }
    }

    /// A seed for one stream of randomness: the run's seed, a name and a purpose.
    nonisolated static func mix(_ seed: UInt64, _ name: String, _ purpose: UInt64) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a: stable across processes, unlike Hasher
        for byte in name.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        return SplitMix64.mix(seed &+ SplitMix64.mix(hash &+ purpose))
    }

    // MARK: - Running

    /// Runs the scenario to its end, passing every event to `emit` as it happens.
    /// A simulation runs once; make another for another run. After
    /// ``recordForReport()`` it also keeps what ``HTMLReport`` draws, without
    /// changing a single event.
    ///
    /// - Parameters:
    ///   - progress: called with the fraction of virtual time done, about every 1%.
    /// - Throws: ``ConfigurationError`` when the policies folder cannot be read,
    ///   or an item of the scenario's `constants` does not fit its script.
    public func run(
        progress: ((Double) -> Void)? = nil, emit output: (SimulationEvent) -> Void
    ) async throws(ConfigurationError) -> SimulationReport {
        guard !hasRun else { throw ConfigurationError(message: "this simulation has already run; make a new one") }
        hasRun = true
        func emit(_ event: SimulationEvent) {
            if recorder != nil { record(event) }
            output(event)
        }
        let scanner = ScriptFolderScanner(folders: [policies])
        let changes = scanner.scan()
        if let problem = scanner.folderErrors[policies] {
            throw ConfigurationError(file: policies, message: "the policies folder cannot be read: \(problem)")
        }
        let scripts = try ScriptConstantRewriter.apply(scenario.constants, to: changes)
        for instance in instances { await instance.runtime.engine.apply(scripts) }
        let names = await engine.scripts.map(\.name).sorted()
        var start: [String: JSONValue] = [
            "scenario": .string(scenario.name), "seed": .int(Int64(bitPattern: seed)),
            "duration": .double(scenario.duration),
            "pipelines": .array(driver.outputPipelines.map { .string($0.name) }),
            "scripts": .array(names.map { .string($0) }),
        ]
        if !scenario.constants.isEmpty {
            var constants: [String: JSONValue] = [:]
            for override in scenario.constants {
                var fields = constants[override.file]?.objectValue ?? [:]
                fields[override.name] = override.value
                constants[override.file] = .object(fields)
            }
            start["constants"] = .object(constants)
        }
        if let spec = scenario.fleet {
            start["fleet"] = ["instances": .int(Int64(spec.instances)), "lease": .double(spec.lease)]
        }
        emit(SimulationEvent(type: "start", t: 0, fields: start))
        emitAudit(at: 0, emit)
        await startFleet(emit)

        var driver = self.driver
        self.driver = CallDriver(runtimes: [], backends: [], duration: 0)  // one copy of the arrays, uniquely owned
        defer { self.driver = driver }
        for index in driver.runtimes.indices where driver.runtimes[index].traffic != nil {
            driver.scheduleArrival(index, now: 0)
        }
        for (index, event) in scenario.events.enumerated() {
            driver.queue.schedule(.scenarioEvent, at: Int64((event.at * 1e9).rounded()), a: Int32(index))
        }
        let sampleInterval = Int64((scenario.sample * 1e9).rounded())
        if sampleInterval > 0 { driver.queue.schedule(.sample, at: sampleInterval) }
        if let due = await engine.nextDue { driver.queue.schedule(.scriptTick, at: max(due, 0), token: decidingTerm) }
        scheduleFirstSlice(&driver)

        var processed = 0
        var nextProgress = end / 100
        var nextRecording = recorder?.nextSample ?? .max
        while let event = driver.queue.next(), event.time <= end {
            let now = event.time
            if now > nextRecording { nextRecording = recordSamples(before: now, driver) }
            processed &+= 1
            if let progress, processed & 0x3FFF == 0, now >= nextProgress {
                progress(Double(now) / Double(end))
                nextProgress = now + end / 100
            }
            if driver.handleCallEvent(event) { continue }
            switch event.kind {
            case .scriptTick:
                // A tick of a leader that died since: its successor has its own.
                guard mayDecide, event.token == decidingTerm else { continue }
                await scriptTick(now: now, &driver, emit)
            case .trialTick:
                await trialTick(event, now: now, &driver, emit)
            case .scenarioEvent:
                await scenarioEvent(Int(event.a), now: now, &driver, emit)
            case .sample:
                emitStats(now: now, interval: sampleInterval, &driver, emit)
                if now + sampleInterval <= end { driver.queue.schedule(.sample, at: now + sampleInterval) }
            case .fleetSlice:
                publishSlice(Int64(event.a), now: now, &driver)
            case .fleetMerge:
                mergeSlices(now: now, emit)
            case .fleetElection:
                await elect(now: now, &driver, emit)
            default:
                break
            }
        }
        if recorder != nil { _ = recordSamples(before: end + 1, driver) }
        clock.advance(to: ManualClock.Instant(offset: .nanoseconds(end)))
        return finish(driver, emit)
    }

    // MARK: - Scripts and scenario events

    private func scriptTick(now: Int64, _ driver: inout CallDriver, _ emit: (SimulationEvent) -> Void) async {
        clock.advance(to: ManualClock.Instant(offset: .nanoseconds(now)))
        let round = await engine.tick(at: now)
        let t = Double(now) / 1e9
        for (script, error) in round.failed.sorted(by: { $0.key < $1.key }) {
            guard error.code == .deadline else {
                emit(
                    SimulationEvent(
                        type: "script", t: t,
                        fields: [
                            "action": "script.evaluate", "outcome": "failed", "actor": "sentinel", "script": .string(script),
                            "reason": .string(error.description),
                        ]))
                continue
            }
            // A wall-clock limit decided this, so the run would not repeat: an error of the run.
            let message = "script \(script) hit its deadline (a wall-clock limit): the run is not deterministic; \(error)"
            runErrors.append(message)
            emit(SimulationEvent(type: "error", t: t, fields: ["message": .string(message), "script": .string(script)]))
        }
        // What the scripts wrote and decided, before the commands that carry the decisions out.
        for (script, line) in round.logs {
            emit(
                SimulationEvent(
                    type: "log", t: t,
                    fields: ["script": .string(script), "level": .string(line.level.rawValue), "message": .string(line.message)]))
        }
        for decision in round.decisions {
            emit(SimulationEvent(type: "decision", t: t, fields: Self.fields(of: decision)))
        }
        emitAudit(at: now, emit)
        for alert in round.alerts {
            emit(
                SimulationEvent(
                    type: "alert", t: t,
                    fields: [
                        "severity": .string(alert.severity.rawValue), "message": .string(alert.message),
                        "script": .string(alert.source.hasPrefix("script:") ? String(alert.source.dropFirst(7)) : alert.source),
                        "fields": .object(alert.fields),
                    ]))
        }
        await replicate(now: now, emit)
        capture.observeAllKnobs()
        for index in driver.runtimes.indices where !driver.runtimes[index].queued.isEmpty {
            driver.pollQueued(index, now: now)
        }
        if let due = await engine.nextDue { driver.queue.schedule(.scriptTick, at: max(due, now + 1), token: decidingTerm) }
        scheduleTrialTick(now: now, &driver)
    }

    /// Evaluates the shadow trials that are due, at their own intervals.
    private func trialTick(_ event: ScheduledEvent, now: Int64, _ driver: inout CallDriver, _ emit: (SimulationEvent) -> Void) async {
        guard scheduledTrialTick == event.time else { return }  // replaced by an earlier one
        scheduledTrialTick = nil
        guard mayDecide else { return }
        clock.advance(to: ManualClock.Instant(offset: .nanoseconds(now)))
        let alerts = trials.evaluateDue(now: now)
        await replicate(now: now, emit)
        emitAudit(at: now, emit)
        for alert in alerts {
            emit(
                SimulationEvent(
                    type: "alert", t: Double(now) / 1e9,
                    fields: [
                        "severity": .string(alert.severity.rawValue), "message": .string(alert.message),
                        "script": .string(alert.source), "fields": .object(alert.fields),
                    ]))
        }
        capture.observeAllKnobs()
        scheduleTrialTick(now: now, &driver)
    }

    func scheduleTrialTick(now: Int64, _ driver: inout CallDriver) {
        guard mayDecide, let due = trials.nextDue else { return }
        let at = max(due, now + 1)
        if let scheduled = scheduledTrialTick, scheduled <= at { return }
        scheduledTrialTick = at
        driver.queue.schedule(.trialTick, at: at)
    }

    private func scenarioEvent(_ index: Int, now: Int64, _ driver: inout CallDriver, _ emit: (SimulationEvent) -> Void) async {
        let event = scenario.events[index]
        let t = Double(now) / 1e9
        switch event.change {
        case .backend(let target, let spec):
            emit(SimulationEvent(type: "event", t: t, fields: ["what": "backend", "target": .string(target), "set": event.written]))
            driver.setBackend(target, spec, now: now)
        case .instanceBackend(let instance, let target, let spec):
            emit(
                SimulationEvent(
                    type: "event", t: t,
                    fields: [
                        "what": "backend", "target": .string(target), "instance": .string(FleetSpec.name(of: instance)),
                        "set": event.written,
                    ]))
            driver.setBackend(target, spec, instance: instance, now: now)
        case .kill(let instance):
            kill(instance, now: now, &driver, emit)
        case .traffic(let pipeline, let spec):
            emit(SimulationEvent(type: "event", t: t, fields: ["what": "traffic", "target": .string(pipeline), "set": event.written]))
            driver.setTraffic(pipeline, spec, now: now)
        case .command(let name, let arguments, let reason):
            emit(SimulationEvent(type: "event", t: t, fields: ["what": "command", "target": .string(name), "set": event.written]))
            clock.advance(to: ManualClock.Instant(offset: .nanoseconds(now)))
            _ = await plane.execute(
                name, arguments,
                context: CommandContext(
                    identity: .operator("scenario"), source: "scenario", reason: reason ?? "scenario event"))
            await replicate(now: now, emit)
            emitAudit(at: now, emit)
            capture.observeAllKnobs()
            scheduleTrialTick(now: now, &driver)
        }
    }

    /// Turns the audit entries written since the last call into output events.
    func emitAudit(at now: Int64, _ emit: (SimulationEvent) -> Void) {
        let t = Double(now) / 1e9
        for captured in capture.drain() {
            let entry = captured.entry
            if entry.action.hasPrefix("script.") {
                var fields: [String: JSONValue] = [
                    "action": .string(entry.action), "outcome": .string(entry.outcome.rawValue), "actor": .string(entry.actor),
                ]
                if let target = entry.target { fields["script"] = .string(target) }
                if let reason = entry.reason { fields["reason"] = .string(reason) }
                emit(SimulationEvent(type: "script", t: t, fields: fields))
                continue
            }
            var fields: [String: JSONValue] = [
                "actor": .string(entry.actor), "action": .string(entry.action), "args": entry.args,
                "outcome": .string(entry.outcome.rawValue),
            ]
            if let target = entry.target { fields["target"] = .string(target) }
            if let reason = entry.reason { fields["reason"] = .string(reason) }
            if let evidence = entry.evidence { fields["evidence"] = evidence }
            if let from = captured.from { fields["from"] = .double(from) }
            if let to = captured.to { fields["to"] = .double(to) }
            if !captured.changes.isEmpty {
                var changes: [String: JSONValue] = [:]
                for change in captured.changes { changes[change.knob] = ["from": .double(change.from), "to": .double(change.to)] }
                fields["changes"] = .object(changes)
            }
            emit(SimulationEvent(type: entry.action.hasPrefix("trial.") ? "trial" : "command", t: t, fields: fields))
        }
    }

    private func emitStats(now: Int64, interval: Int64, _ driver: inout CallDriver, _ emit: (SimulationEvent) -> Void) {
        let t = Double(now) / 1e9
        let window: StatisticsWindow =
            switch interval {
            case ...10_000_000_000: .tenSeconds
            case ...60_000_000_000: .oneMinute
            case ...300_000_000_000: .fiveMinutes
            default: .fifteenMinutes
            }
        for (p, runtime) in driver.outputPipelines.enumerated() {
            emit(statsEvent(t, runtime.name, nil, driver.takeSample(p), driver.windows(p).stats(window, now: now)))
            for (v, variant) in runtime.variants.enumerated() {
                emit(
                    statsEvent(
                        t, runtime.name, variant, driver.takeSample(p, variant: v), driver.windows(p, variant: v).stats(window, now: now)))
            }
        }
    }

    private func statsEvent(
        _ t: Double, _ pipeline: String, _ variant: String?, _ counts: CallCounts, _ stats: WindowStats
    ) -> SimulationEvent {
        let errorRate = counts.calls > 0 ? Double(counts.failures) / Double(counts.calls) : 0
        var fields: [String: JSONValue] = ["pipeline": .string(pipeline), "calls": .int(Int64(counts.calls))]
        fields["variant"] = variant.map(JSONValue.string) ?? .null
        fields["error_rate"] = .double(errorRate)
        fields["failures"] = .int(Int64(counts.failures))
        fields["timeouts"] = .int(Int64(counts.timeouts))
        fields["rejections"] = .int(Int64(counts.rejections))
        fields["slow_calls"] = .int(Int64(counts.slowCalls))
        fields["p50"] = .double(stats.p50)
        fields["p99"] = .double(stats.p99)
        return SimulationEvent(type: "stats", t: t, fields: fields)
    }

    /// A `decision` event's fields: every key present, `null` for what the rule did not say.
    static func fields(of decision: ScriptDecision) -> [String: JSONValue] {
        [
            "script": .string(decision.script), "action": .string(decision.action.rawValue),
            "subject": .string(decision.subject), "verdict": decision.verdict.map(JSONValue.string) ?? .null,
            "reason": decision.reason.map(JSONValue.string) ?? .null, "evidence": .object(decision.evidence),
            "dry_run": .bool(decision.dryRun),
        ]
    }
}
