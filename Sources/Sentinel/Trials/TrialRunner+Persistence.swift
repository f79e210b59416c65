import Resilience
import ShadowEval

/// Trials in the state file.
///
/// Each trial is saved with its configuration, status, counters, the values
/// to restore on a rollback and the watch's baseline. Instants are saved as
/// Unix seconds (the monotonic clock restarts with the process) and read back
/// relative to the new process's clock. The knobs' live and shadow values are
/// saved with the other knobs, so a restored trial finds its shadows in place.
///
/// What resuming means: a trial that was running carries on with its
/// violations and its previous values; its stable window resumes only if the
/// process was back within two evaluation intervals. After a longer gap the
/// first evaluation sees a stall and restarts the window: time nobody
/// observed is never counted as stable. A watching trial resumes its watch
/// the same way, with the same baseline.
///
/// A sequential trial's test is not saved: its counts are the pipeline's
/// running totals, which start again with the process. The restored trial
/// begins a new test at its first evaluation (its observation time counts
/// from there); its configuration, status and previous values carry on.
extension TrialRunner {
    /// Every trial, for the state file.
    public func persisted(now: Int64? = nil) -> JSONValue {
        let now = now ?? plane.time.now()
        let wallNow = plane.now
        func wall(_ instant: Int64) -> JSONValue { .double(wallNow - Double(now - instant) / 1e9) }
        var saved: [JSONValue] = []
        for record in records.withLock({ $0.values.sorted { $0.name < $1.name } }) {
            let trial = record.trial
            let configuration = trial.configuration
            var fields: [String: JSONValue] = [
                "name": .string(trial.name),
                "params": .object(configuration.params.mapValues { .double($0) }),
                "window": .double(Double(configuration.window) / 1e9),
                "interval": .double(Double(configuration.interval) / 1e9),
                "min_samples": .int(Int64(configuration.minSamples)),

                "watch": .double(Double(configuration.watch) / 1e9),
                "criteria": Self.encode(configuration.criteria),
                "status": .string(trial.status.rawValue),
                "started_at": wall(trial.startedAt),
                "last_evaluation": wall(trial.lastEvaluation),
                "violations": .int(Int64(trial.violations)),
                "previous": .object(trial.previousValues.mapValues { .double($0) }),
                "evidence": trial.lastEvidence.jsonValue,
            ]
            if configuration.judge == .sequential {
                // A sequential trial refuses max_violations: its first violation aborts.
                fields["judge"] = .string(configuration.judge.rawValue)
            } else {
                fields["max_violations"] = .int(Int64(configuration.maxViolations))
            }
            if let since = trial.coveredSince { fields["covered_since"] = wall(since) }
            if let held = trial.heldSince { fields["held_since"] = wall(held) }
            if let promoted = trial.promotedAt { fields["promoted_at"] = wall(promoted) }
            if let ended = trial.endedAt { fields["ended_at"] = wall(ended) }
            if let baseline = trial.baseline { fields["baseline"] = Self.encode(baseline) }
            if let latencies = trial.baselineLatencies {
                // Sparse: bucket index → calls.
                var buckets: [String: JSONValue] = [:]
                for (index, count) in latencies.enumerated() where count != 0 { buckets[String(index)] = .double(count) }
                fields["baseline_latencies"] = .object(buckets)
            }
            fields["max_duration"] = .double(Double(record.request.maxDuration) / 1e9)
            if let limit = record.request.maxShadowCalls { fields["max_shadow_calls"] = .int(Int64(limit)) }
            fields["warnings"] = .array(record.warnings.map { .string($0) })
            fields["shadow_calls"] = .int(Int64(record.shadowCalls))
            saved.append(.object(fields))
        }
        return .array(saved)
    }

    /// Puts back the trials of a state file; returns one line per trial that
    /// could not be read (it is left out, never half restored). With
    /// `replacing`, the trials not in `value` are dropped: a fleet's follower
    /// holds exactly the trials its leader decided.
    @discardableResult
    public func restore(_ value: JSONValue, now: Int64? = nil, replacing: Bool = false) -> [String] {
        let now = now ?? plane.time.now()
        let wallNow = plane.now
        guard case .array(let items) = value else {
            if case .object(let object) = value, object.isEmpty { return [] }  // an older file: no trials
            return ["trials: expected a list, got \(value.jsonString())"]
        }
        var problems: [String] = []
        if replacing {
            let names = Set(items.compactMap { $0.objectValue?["name"]?.stringValue })
            records.withLock { $0 = $0.filter { names.contains($0.key) } }
        }
        for item in items {
            do {
                let record = try Self.decode(item, now: now, wallNow: wallNow, registry: plane.registry)
                records.withLock { $0[record.name] = record }
            } catch {
                problems.append("trial \(item.objectValue?["name"]?.stringValue ?? "?"): not restored: \(error.message)")
            }
        }
        return problems
    }

    /// The range of a count read back from a state file.
    static let savedCount = InputRange(0, 1e15, unit: .number, wholeNumber: true)

    static func decode(_ item: JSONValue, now: Int64, wallNow: Double, registry: ParameterRegistry) throws(CommandError) -> TrialRecord {
        guard case .object(let fields) = item else { throw CommandError(.invalidArgument, "expected an object") }
        let arguments = CommandArguments(command: "state file", values: fields)
        func instant(_ key: String) throws(CommandError) -> Int64 {
            // Saved as Unix seconds: anything more than a century from now is not a time this trial lived.
            let age = wallNow - (try arguments.number(key, in: InputRange(wallNow - 3.15e9, wallNow + 3.15e9, unit: .number)))
            return now - Int64((age * 1e9).rounded())
        }
        func optionalInstant(_ key: String) throws(CommandError) -> Int64? {
            fields[key] == nil || fields[key] == .null ? nil : try instant(key)
        }
        var requestValues = fields.filter { TrialRequest.fields.contains($0.key) }
        requestValues["max_duration"] = fields["max_duration"] ?? .double(3600)
        let request = try TrialRequest(CommandArguments(command: "state file", values: requestValues), registry: registry)
        let statusText = try arguments.string("status")
        guard let status = TrialStatus(rawValue: statusText) else {
            throw CommandError(.invalidArgument, "unknown status \(statusText)")
        }
        var previous: [String: Double] = [:]
        for (knob, value) in try arguments.object("previous") {
            guard let number = value.doubleValue else { throw CommandError(.invalidArgument, "previous.\(knob) is not a number") }
            previous[knob] = number
        }
        var evidence: Evidence = [:]
        for (key, value) in fields["evidence"]?.objectValue ?? [:] {
            if let number = value.doubleValue {
                evidence[key] = .number(number)
            } else if let text = value.stringValue {
                evidence[key] = .string(text)
            }
        }
        let baseline = try fields["baseline"].map { (value) throws(CommandError) in try decodeStats(value) }
        var baselineLatencies: [Double]?
        if case .object(let buckets)? = fields["baseline_latencies"] {
            var histogram = [Double](repeating: 0, count: LatencyBuckets.count)
            for (key, value) in buckets {
                guard let index = Int(key), histogram.indices.contains(index), let count = value.doubleValue else {
                    throw CommandError(.invalidArgument, "baseline_latencies: bad bucket \(key)")
                }
                histogram[index] = count
            }
            baselineLatencies = histogram
        }
        let trial = ShadowTrial(
            restoring: request.configuration, status: status, startedAt: try instant("started_at"),
            lastEvaluation: try instant("last_evaluation"), coveredSince: try optionalInstant("covered_since"),
            violations: try arguments.wholeNumber("violations", in: Self.savedCount), previousValues: previous, baseline: baseline,
            promotedAt: try optionalInstant("promoted_at"), endedAt: try optionalInstant("ended_at"), lastEvidence: evidence,
            baselineLatencies: baselineLatencies, heldSince: try optionalInstant("held_since"))
        let pipeline = String(request.configuration.params.keys.sorted()[0].prefix { $0 != "." })
        let warnings = (fields["warnings"]?.arrayValue ?? []).compactMap(\.stringValue)
        let shadowCalls = fields["shadow_calls"] == nil ? 0 : try arguments.wholeNumber("shadow_calls", in: Self.savedCount)
        var record = TrialRecord(trial: trial, request: request, pipeline: pipeline, warnings: warnings)
        record.shadowCalls = shadowCalls
        return record
    }

    static func encode(_ criteria: TrialCriteria) -> JSONValue {
        func tolerance(_ value: MetricTolerance?) -> JSONValue {
            guard let value else { return .bool(false) }
            return ["absolute": .double(value.absolute), "relative": .double(value.relative)]
        }
        return [
            "error_rate": tolerance(criteria.errorRate), "rejection_rate": tolerance(criteria.rejectionRate),
            "timeout_rate": tolerance(criteria.timeoutRate), "p50": tolerance(criteria.p50),
            "p90": tolerance(criteria.p90), "p99": tolerance(criteria.p99), "confidence": .double(criteria.confidence),
            "latency_shift": criteria.latencyShift.map { .double($0) } ?? .bool(false),
        ]
    }

    static func encode(_ stats: WindowStats) -> JSONValue {
        [
            "calls": .int(Int64(stats.calls)), "successes": .int(Int64(stats.successes)),
            "failures": .int(Int64(stats.failures)), "timeouts": .int(Int64(stats.timeouts)),
            "rejections": .int(Int64(stats.rejections)), "breaker_rejections": .int(Int64(stats.breakerRejections)),
            "bulkhead_rejections": .int(Int64(stats.bulkheadRejections)),
            "rate_limiter_rejections": .int(Int64(stats.rateLimiterRejections)), "unknown": .int(Int64(stats.unknown)),
            "error_rate": .double(stats.errorRate), "p50": .double(stats.p50), "p90": .double(stats.p90),
            "p99": .double(stats.p99), "max": .double(stats.max),
        ]
    }

    static func decodeStats(_ value: JSONValue) throws(CommandError) -> WindowStats {
        guard case .object(let fields) = value else { throw CommandError(.invalidArgument, "baseline: expected an object") }
        let a = CommandArguments(command: "baseline", values: fields)
        func count(_ key: String) throws(CommandError) -> Int { try a.wholeNumber(key, in: savedCount) }
        return WindowStats(
            calls: try count("calls"), successes: try count("successes"), failures: try count("failures"),
            timeouts: try count("timeouts"), rejections: try count("rejections"),
            breakerRejections: try count("breaker_rejections"), bulkheadRejections: try count("bulkhead_rejections"),
            rateLimiterRejections: try count("rate_limiter_rejections"), unknown: try count("unknown"),
            errorRate: try a.number("error_rate"), p50: try a.number("p50"), p90: try a.number("p90"),
            p99: try a.number("p99"), max: try a.number("max"))
    }
}
