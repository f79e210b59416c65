/// The execution engine for pipelines without an enforced timeout: the stages
/// are interpreted in one loop over the flat stage list instead of one async
/// frame per stage. Admission walks forward (breaker, bulkhead, rate limiter,
/// split decide synchronously; retry and a cooperative timeout note their
/// state), the operation runs once per attempt, and settlement walks back
/// (records, releases, the late-result check of a cooperative timeout, and
/// the retry decision, which restarts admission after the retry stage).
/// Pipelines with an enforced timeout need a child task per call and use the
/// nested engine in `Pipeline+Execute.swift`; both share the stage helpers.
extension Pipeline {
    @usableFromInline
    enum FlatAdmission {
        case admitted
        case mustWait(BulkheadGate, UInt64)
        case failed(any Error)
    }

    @usableFromInline
    enum FlatSettlement {
        case done((any Error)?)
        case retry(wake: Int64)
    }

    @inlinable
    func executeFlat<T: Sendable>(
        key: String?, report: CallReport?, _ operation: @Sendable (CallContext) async throws -> T
    ) async throws -> T {
        let start = time.now()
        let snapshot = knobs.read()  // owned here for the whole call; CallState refers to it unowned
        defer { withExtendedLifetime(snapshot) {} }
        var call = CallState(snapshot: snapshot, key: key, start: start, report: report)
        while true {
            var admission = admitFlat(&call)
            while case .mustWait(let gate, let ticket) = admission {
                do {
                    try await waitInQueue(gate, ticket, &call)
                    call.cursor += 1
                    admission = admitFlat(&call)
                } catch {
                    admission = .failed(error)
                }
            }
            let result: Result<T, any Error>
            if case .failed(let error) = admission {
                result = .failure(error)
            } else {
                let variant = call.variant >= 0 ? variantWindows[call.variant].name : nil
                let context = CallContext(variant: variant, attempt: call.attempt)
                do {
                    if let deadline = call.deadline {
                        result = .success(
                            try await Deadline.$current.withValue(Deadline(instant: deadline, source: time)) {
                                try await operation(context)
                            })
                    } else {
                        result = .success(try await operation(context))
                    }
                } catch {
                    result = .failure(error)
                }
            }
            var settlement = settleFlat(&call, error: result.failureValue)
            if case .retry(let wake) = settlement {
                do {
                    try await time.sleep(until: wake)
                    call.attempt += 1
                    call.attemptStart = time.now()
                    call.attemptEnd = nil
                    continue
                } catch {
                    // Cancelled while backing off: settle the outer stages with the cancellation.
                    settlement = settleFlat(&call, error: error)
                }
            }
            if case .done(let error?) = settlement {
                finish(&call, Self.outcome(of: error))
                throw error
            }
            finish(&call, .success)
            return try result.get()
        }
    }

    /// Admits the stages of the current attempt from `call.cursor` on, synchronously.
    @usableFromInline
    func admitFlat(_ call: inout CallState) -> FlatAdmission {
        while call.cursor < stages.count {
            do {
                switch stages[call.cursor] {
                case .breaker(let gate): try admitBreaker(gate.object, &call)
                case .bulkhead(let gate):
                    if let ticket = try admitBulkhead(gate.object, &call) { return .mustWait(gate.object, ticket) }
                case .rateLimit(let gate): try admitRateLimit(gate.object, &call)
                case .split(let router): call.variant = router.object.choose(key: call.key, snapshot: call.snapshot)
                case .retry(let runner): beginRetry(runner.object, &call)
                case .timeout(let runner): beginCooperativeTimeout(runner.object, &call)
                }
            } catch {
                return .failed(error)
            }
            call.cursor += 1
        }
        return .admitted
    }

    /// Settles the admitted stages innermost first; stops at a retry stage that retries.
    @usableFromInline
    func settleFlat(_ call: inout CallState, error: (any Error)?) -> FlatSettlement {
        var error = error
        while call.cursor > 0 {
            let index = call.cursor - 1
            switch stages[index] {
            case .breaker(let gate): settleBreaker(gate.object, &call, error: error)
            case .bulkhead(let gate): gate.object.release()
            case .rateLimit, .split: break
            case .timeout(let runner): error = settleCooperativeTimeout(runner.object, &call, error: error)
            case .retry(let runner):
                if let failure = error {
                    if let wake = retryAfterFailure(runner.object, &call, error: failure) { return .retry(wake: wake) }
                } else if call.retryShadowed {
                    call.judgeShadow(
                        ShadowJudge.retry(
                            attempts: call.attempt, succeeded: true, ranOut: false, liveMax: call.retrySettings.maxAttempts,
                            shadowMax: call.retryShadowMax, outcomeAtShadowLimit: call.retryOutcomeAtShadowLimit))
                }
            }
            call.cursor = index
        }
        return .done(error)
    }

    // MARK: - Retry

    private func beginRetry(_ runner: RetryRunner, _ call: inout CallState) {
        let snapshot = call.snapshot
        call.retrySettings = runner.settings(snapshot)
        if let budget = runner.budget, let slot = runner.slots.budgetRatio {
            budget.deposit(ratio: snapshot.value(slot))
        }
        call.retryShadowed = runner.isShadowed(snapshot)
        call.retryShadowMax = call.retryShadowed ? Int(snapshot.effectiveShadow(runner.slots.maxAttempts)) : 0
        call.retryPreviousDelay = call.retrySettings.baseDelay
        call.attempt = 1
    }

    /// After a failed attempt: the instant to start the next one, or `nil` to give up
    /// (emitting the matching events and shadow judgement).
    private func retryAfterFailure(_ runner: RetryRunner, _ call: inout CallState, error: any Error) -> Int64? {
        let attempt = call.attempt
        let settings = call.retrySettings
        if attempt == call.retryShadowMax { call.retryOutcomeAtShadowLimit = Self.outcome(of: error) }
        let retryable = runner.shouldRetry(error)
        let ranOut = retryable && attempt >= settings.maxAttempts
        // Read only for an error that would be retried, so hints of errors that are not cost nothing.
        let hint = retryable && !ranOut ? RetryCore.retryAfterHint(of: error) : nil
        let hintTooLong = hint.map { !RetryCore.accepts(hint: $0, settings: settings) } ?? false
        if !retryable || ranOut || hintTooLong || !startsInTime(call, after: hint ?? 0) {
            giveUp(&call, ranOut: ranOut)
            return nil
        }
        if let budget = runner.budget, !budget.withdraw() {
            events?.emit(PolicyEvent(pipeline: name, kind: .retryBudgetExhausted, time: endTime(&call)))
            return nil
        }
        let backoff = RetryCore.delay(afterAttempt: attempt, previous: call.retryPreviousDelay, settings: settings, unit: random.nextUnit())
        let delay = max(backoff, hint ?? 0)
        guard startsInTime(call, after: delay) else {
            giveUp(&call, ranOut: false)
            return nil
        }
        call.retryPreviousDelay = backoff
        let end = endTime(&call)
        call.report?.retries.append(CallReport.Retry(attempt: attempt + 1, delay: delay, time: end))
        events?.emit(PolicyEvent(pipeline: name, kind: .retryAttempt(attempt: attempt + 1, delay: delay), time: end))
        return end + nanos(fromSeconds: delay)
    }

    /// Whether an attempt `delay` seconds from now starts before the deadline of a
    /// cooperative timeout around the retry (one inside it sets a deadline per attempt):
    /// an attempt after it could only fail, and would count as a failure.
    private func startsInTime(_ call: CallState, after delay: Double) -> Bool {
        guard timeoutWrapsRetry, let deadline = call.deadline else { return true }
        return (call.attemptEnd ?? time.now()) &+ nanos(fromSeconds: delay) < deadline
    }

    private func giveUp(_ call: inout CallState, ranOut: Bool) {
        let attempt = call.attempt
        let settings = call.retrySettings
        if call.retryShadowed {
            call.judgeShadow(
                ShadowJudge.retry(
                    attempts: attempt, succeeded: false, ranOut: ranOut, liveMax: settings.maxAttempts,
                    shadowMax: call.retryShadowMax, outcomeAtShadowLimit: call.retryOutcomeAtShadowLimit))
        }
        if ranOut && attempt > 1 {
            events?.emit(PolicyEvent(pipeline: name, kind: .retryExhausted(attempts: attempt), time: endTime(&call)))
        }
    }

    // MARK: - Cooperative timeout

    private func beginCooperativeTimeout(_ runner: TimeoutRunner, _ call: inout CallState) {
        let snapshot = call.snapshot
        let duration = nanos(fromSeconds: snapshot.value(runner.durationSlot))
        call.timeoutStarted = call.attemptStart
        call.timeoutDuration = duration
        call.timeoutShadowDuration = snapshot.shadowValue(runner.durationSlot).map(nanos(fromSeconds:))
        let deadline = call.attemptStart &+ duration
        call.deadline = min(deadline, Deadline.current?.instant ?? .max)
    }

    /// A result that came back after the deadline becomes a timeout; errors pass unchanged.
    private func settleCooperativeTimeout(_ runner: TimeoutRunner, _ call: inout CallState, error: (any Error)?) -> (any Error)? {
        guard error == nil else { return error }
        let end = endTime(&call)
        let latency = end - call.timeoutStarted
        let duration = call.timeoutDuration
        if latency > duration {
            if let shadow = call.timeoutShadowDuration {
                call.judgeShadow(ShadowJudge.timeout(liveTimedOut: true, latency: latency, live: duration, shadow: shadow))
            }
            events?.emit(PolicyEvent(pipeline: name, kind: .timeout(after: seconds(fromNanos: duration)), time: end))
            return ResilienceError(.timedOut, pipeline: name, "\(name): timed out after \(seconds(fromNanos: duration)) s")
        }
        if let shadow = call.timeoutShadowDuration {
            call.judgeShadow(
                ShadowJudge.timeout(liveTimedOut: false, latency: latency, live: duration, shadow: shadow),
                latency: min(latency, shadow))
        }
        return nil
    }
}

extension Result {
    /// The error, if this is a failure.
    @inlinable
    var failureValue: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
