import Resilience
import Sentinel

/// What a finished run found: the verdict on every expectation and the totals.
public struct SimulationReport: Sendable {
    public var scenario: String
    public var seed: UInt64
    public var results: [ExpectationResult]
    /// Errors of the run itself (a script that hit its wall-clock deadline).
    public var errors: [String]
    /// Every expectation held and the run had no error.
    public var passed: Bool
    /// Final live value of every knob.
    public var knobs: [String: Double]
    /// Calls per pipeline and per `pipeline.variant` over the whole run.
    public var calls: [String: Int]
    public var failures: [String: Int]
    /// Of the failures, by the same names: timeouts, and calls a policy refused.
    public var timeouts: [String: Int] = [:]
    public var rejections: [String: Int] = [:]
    /// Calls that took at least the scenario's `slow_call`, by the same names.
    public var slowCalls: [String: Int] = [:]
    /// Calls begun, `via` calls included.
    public var simulatedCalls: Int
    /// Calls per pipeline still running when the run ended (begun, not finished:
    /// not in `calls`, which counts finished calls only).
    public var inFlight: [String: Int] = [:]
    /// Approval gates a script opened that no one answered before the end, by name.
    public var pendingApprovals: [ApprovalGate] = []
}

extension Simulation {
    func finish(_ driver: CallDriver, _ emit: (SimulationEvent) -> Void) -> SimulationReport {
        capture.observeAllKnobs()
        var knobs: [String: Double] = [:]
        for info in registry.parameters() { knobs[info.name] = info.value }
        var totals: [String: CallCounts] = [:]
        for (p, runtime) in driver.outputPipelines.enumerated() {
            totals[runtime.name] = driver.counts(p)
            for (v, variant) in runtime.variants.enumerated() {
                totals["\(runtime.name).\(variant)"] = driver.counts(p, variant: v)
            }
        }
        let calls = totals.mapValues(\.calls)
        let failures = totals.mapValues(\.failures)
        var inFlight: [String: Int] = Dictionary(uniqueKeysWithValues: driver.outputPipelines.map { ($0.name, 0) })
        let free = Set(driver.freeSlots)
        for (index, record) in driver.calls.enumerated() where !free.contains(Int32(index)) {
            inFlight[driver.runtimes[Int(record.pipeline)].name, default: 0] += 1
        }
        let results = scenario.expectations.map { expectation in
            let actual = measure(expectation.subject, driver, knobs: knobs, calls: calls, failures: failures)
            return ExpectationResult(
                assertion: expectation.assertion, passed: expectation.comparisons.allSatisfy { $0.holds(for: actual) },
                actual: actual)
        }
        let passed = runErrors.isEmpty && results.allSatisfy(\.passed)
        let pending = runtime.approvals.all.values.filter { $0.status == .pending }.sorted { $0.name < $1.name }
        var errorRates: [String: JSONValue] = [:]
        for (name, count) in calls { errorRates[name] = .double(count > 0 ? Double(failures[name] ?? 0) / Double(count) : 0) }
        func byName(_ count: (CallCounts) -> Int) -> JSONValue { .object(totals.mapValues { .int(Int64(count($0))) }) }
        var fields: [String: JSONValue] = [:]
        if let store = fleet {
            fields["fleet"] = [
                "instances": .int(Int64(instances.count)), "leader": store.leader.map { .string(instances[$0].name) } ?? .null,
                "term": .int(store.term), "killed": .array(store.killed.map { .string($0) }),
            ]
        }
        emit(
            SimulationEvent(
                type: "summary", t: scenario.duration,
                fields: fields.merging([
                    "scenario": .string(scenario.name), "seed": .int(Int64(bitPattern: seed)),
                    "knobs": .object(knobs.mapValues { .double($0) }),
                    "calls": .object(calls.mapValues { .int(Int64($0)) }),
                    "in_flight": .object(inFlight.mapValues { .int(Int64($0)) }),
                    "error_rate": .object(errorRates),
                    "failures": byName(\.failures), "timeouts": byName(\.timeouts), "rejections": byName(\.rejections),
                    "slow_calls": byName(\.slowCalls), "slow_call": .double(scenario.slowCall),
                    "expect": .array(results.map(\.jsonValue)),
                    "errors": .array(runErrors.map { .string($0) }),
                    "passed": .bool(passed),
                    "pending_approvals": .array(pending.map(pendingJSON)),
                ]) { _, given in given }))
        return SimulationReport(
            scenario: scenario.name, seed: seed, results: results, errors: runErrors, passed: passed, knobs: knobs,
            calls: calls, failures: failures, timeouts: totals.mapValues(\.timeouts),
            rejections: totals.mapValues(\.rejections), slowCalls: totals.mapValues(\.slowCalls),
            simulatedCalls: driver.simulatedCalls, inFlight: inFlight, pendingApprovals: pending)
    }

    /// `{ gate, requested_by, t, time, message }`: `t` is when it was asked, in virtual seconds.
    private func pendingJSON(_ gate: ApprovalGate) -> JSONValue {
        [
            "gate": .string(gate.name), "requested_by": .string(gate.requestedBy),
            "t": .double(gate.requestedAt - plane.epoch), "time": .string(RFC3339.string(fromUnixSeconds: gate.requestedAt)),
            "message": gate.message.map { .string($0) } ?? .null,
        ]
    }

    private func measure(
        _ subject: Expectation.Subject, _ driver: CallDriver, knobs: [String: Double], calls: [String: Int], failures: [String: Int]
    ) -> JSONValue {
        switch subject {
        case .param(let name): return knobs[name].map { .double($0) } ?? .null
        case .paramMax(let name): return capture.highest(name).map { .double($0) } ?? .null
        case .paramMin(let name): return capture.lowest(name).map { .double($0) } ?? .null
        case .audit(let filter): return .int(Int64(capture.entries.filter(filter.matches).count))
        case .calls(let target): return .int(Int64(calls[target] ?? 0))
        case .errorRate(let target):
            let count = calls[target] ?? 0
            return .double(count > 0 ? Double(failures[target] ?? 0) / Double(count) : 0)
        case .trial(let name):
            return trials.trial(named: name).map { .string($0.status.rawValue) } ?? .string("none")
        case .breaker(let pipeline):
            let state = driver.runtimes.first { $0.name == pipeline }?.pipeline.snapshot(now: end).breaker?.state
            return state.map { .string($0.rawValue) } ?? .null
        }
    }
}
