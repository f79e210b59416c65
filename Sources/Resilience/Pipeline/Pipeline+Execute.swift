extension Pipeline {
    /// Runs `operation` through the pipeline's policies.
    ///
    /// - Parameters:
    ///   - key: keeps a caller on one traffic-split variant (for example a user id).
    ///   - operation: the call to protect; receives the variant and attempt number.
    /// - Throws: the operation's error, or ``ResilienceError`` when a policy refused or ended the call.
    @inlinable
    public func execute<T: Sendable>(
        key: String? = nil,
        _ operation: @Sendable (CallContext) async throws -> T
    ) async throws -> T {
        try await executeCall(key: key, operation)
    }

    /// Runs `operation` through the pipeline's policies.
    @inlinable
    public func execute<T: Sendable>(_ operation: @Sendable () async throws -> T) async throws -> T {
        try await executeCall(key: nil) { _ in try await operation() }
    }

    /// Runs `operation`; when it fails in a way `fallback` handles, returns the fallback's value.
    public func execute<T: Sendable>(
        key: String? = nil,
        fallback: Fallback<T>,
        _ operation: @Sendable (CallContext) async throws -> T
    ) async throws -> T {
        try await fallback.execute { try await executeCall(key: key, operation) }
    }

    @inlinable
    func executeCall<T: Sendable>(
        key: String?, report: CallReport? = nil, _ operation: @Sendable (CallContext) async throws -> T
    ) async throws -> T {
        if !hasEnforcedTimeout { return try await executeFlat(key: key, report: report, operation) }
        return try await executeNested(key: key, report: report, operation)
    }

    @usableFromInline
    func executeNested<T: Sendable>(
        key: String?, report: CallReport?, _ operation: @Sendable (CallContext) async throws -> T
    ) async throws -> T {
        let start = time.now()
        let snapshot = knobs.read()  // owned here for the whole call; CallState refers to it unowned
        var call = CallState(snapshot: snapshot, key: key, start: start, report: report)
        do {
            let value = try await run(0, &call, operation)
            finish(&call, .success)
            withExtendedLifetime(snapshot) {}
            return value
        } catch {
            finish(&call, Self.outcome(of: error))
            withExtendedLifetime(snapshot) {}
            throw error
        }
    }

    /// The outcome windows record for an error.
    @usableFromInline
    static func outcome(of error: any Error) -> Outcome {
        if let error = error as? ResilienceError { return error.outcome }
        return .failure
    }

    @inlinable @inline(__always)
    func endTime(_ call: inout CallState) -> Int64 {
        if let end = call.attemptEnd { return end }
        let end = time.now()
        call.attemptEnd = end
        return end
    }

    @usableFromInline
    func finish(_ call: inout CallState, _ outcome: Outcome) {
        let end = endTime(&call)
        let latency = end - call.start
        windows.record(outcome, latency: latency, now: end)
        if call.variant >= 0 {
            variantWindows[call.variant].windows.record(outcome, latency: latency, now: end)
        }
        if call.snapshot.hasShadows {
            shadowWindows.record(call.shadowVerdict ?? outcome, latency: call.shadowLatency ?? latency, now: end)
        }
        if let report = call.report { fill(report, from: call, outcome: outcome, end: end) }
    }

    /// What the windows recorded for the call, for the caller that asked (``CallReport``).
    private func fill(_ report: CallReport, from call: CallState, outcome: Outcome, end: Int64) {
        report.start = call.start
        report.end = end
        report.outcome = outcome
        // The nested engine may have noted later attempts and the variant from a child task.
        report.attempts = max(report.attempts, call.attempt)
        if call.variant >= 0 { report.variant = variantWindows[call.variant].name }
        if call.snapshot.hasShadows { report.shadowOutcome = call.shadowVerdict ?? outcome }
    }

    // MARK: - Stages

    /// Runs the stages from `index` on: the synchronous ones (breaker, bulkhead, rate
    /// limiter, split) are admitted in order in this one frame, then the next wrapping
    /// stage (retry, timeout) or the operation runs, then the admitted stages are
    /// settled in reverse order. Keeping the synchronous stages in one frame keeps the
    /// number of async frames per call small.
    func run<T: Sendable>(
        _ index: Int, _ call: inout CallState, _ operation: @Sendable (CallContext) async throws -> T
    ) async throws -> T {
        var next = index
        do {
            admission: while next < stages.count {
                switch stages[next] {
                case .breaker(let gate): try admitBreaker(gate.object, &call)
                case .bulkhead(let gate):
                    if let wait = try admitBulkhead(gate.object, &call) {
                        // Queued: wait here, in this frame (the fast path never suspends).
                        try await waitInQueue(gate.object, wait, &call)
                    }
                case .rateLimit(let gate): try admitRateLimit(gate.object, &call)
                case .split(let router):
                    call.variant = router.object.choose(key: call.key, snapshot: call.snapshot)
                    // Inside an enforced timeout this runs on a copy of the call that a timeout discards.
                    call.report?.variant = variantWindows[call.variant].name
                case .timeout, .retry: break admission
                }
                next += 1
            }
        } catch {
            settle(index..<next, &call, error: error)
            throw error
        }
        do {
            // The admission loop stops at the end or at a wrapping stage.
            let value: T
            if next < stages.count, case .retry(let runner) = stages[next] {
                value = try await runRetry(runner.object, next, &call, operation)
            } else if next < stages.count, case .timeout(let runner) = stages[next] {
                value = try await runTimeout(runner.object, next, &call, operation)
            } else {
                let variant = call.variant >= 0 ? variantWindows[call.variant].name : nil
                value = try await operation(CallContext(variant: variant, attempt: call.attempt))
            }
            settle(index..<next, &call, error: nil)
            return value
        } catch {
            settle(index..<next, &call, error: error)
            throw error
        }
    }

    /// Settles the synchronous stages `range` admitted, innermost first.
    private func settle(_ range: Range<Int>, _ call: inout CallState, error: (any Error)?) {
        var index = range.upperBound
        while index > range.lowerBound {
            index -= 1
            switch stages[index] {
            case .breaker(let gate): settleBreaker(gate.object, &call, error: error)
            case .bulkhead(let gate): gate.object.release()
            case .rateLimit, .split, .timeout, .retry: break
            }
        }
    }

    func admitBreaker(_ gate: BreakerGate, _ call: inout CallState) throws {
        let started = call.attemptStart
        let (live, shadow) = gate.decide(now: started, snapshot: call.snapshot)
        var shadowTrial: Bool?
        if let shadow {
            let verdict = ShadowJudge.admission(
                liveAdmitted: live.isPermitted, shadowAdmitted: shadow.isPermitted,
                rejection: .rejectedByBreaker)
            call.judgeShadow(verdict, latency: verdict == .rejectedByBreaker ? 0 : nil)
            if case .permitted(let trial) = shadow, live.isPermitted { shadowTrial = trial }
        }
        switch live {
        case .permitted(let trial):
            call.breakerTrial = trial
            call.breakerShadowTrial = shadowTrial
            call.breakerStarted = started
        case .rejected(let after):
            throw ResilienceError(
                .circuitOpen, pipeline: name, "\(name): circuit breaker is open",
                retryAfter: after == .max ? nil : .nanoseconds(after))
        }
    }

    func settleBreaker(_ gate: BreakerGate, _ call: inout CallState, error: (any Error)?) {
        // Cancellation and other policies' refusals say nothing about the dependency.
        let counts = error.map { !($0 is CancellationError) && !(($0 as? ResilienceError)?.isRejection ?? false) } ?? true
        if counts {
            let end = endTime(&call)
            gate.record(
                failure: error != nil, latency: end - call.breakerStarted, trial: call.breakerTrial,
                shadowTrial: call.breakerShadowTrial, now: end, snapshot: call.snapshot)
        } else {
            gate.releaseTrial(trial: call.breakerTrial, shadowTrial: call.breakerShadowTrial)
        }
    }

    /// Takes a permit, or returns the queue ticket to wait with; throws when the bulkhead is full.
    func admitBulkhead(_ gate: BulkheadGate, _ call: inout CallState) throws -> UInt64? {
        let (admission, id, inUse, queued) = gate.tryAcquire()
        let snapshot = call.snapshot
        if snapshot.shadowMask & (0b11 << UInt32(gate.slots.capacity)) != 0 {
            call.judgeShadow(
                ShadowJudge.bulkhead(
                    liveAdmitted: admission != .rejected, inUseBefore: inUse, queuedBefore: queued,
                    shadowCapacity: Int(snapshot.effectiveShadow(gate.slots.capacity)),
                    shadowQueue: Int(snapshot.effectiveShadow(gate.slots.queued))), latency: 0)
        }
        switch admission {
        case .acquired:
            return nil
        case .queued:
            return id
        case .rejected:
            events?.emit(PolicyEvent(pipeline: name, kind: .bulkheadRejected(queueTimedOut: false), time: call.attemptStart))
            throw ResilienceError(.bulkheadFull, pipeline: name, "\(name): bulkhead is full (\(inUse) in use, \(queued) queued)")
        }
    }

    @usableFromInline
    func waitInQueue(_ gate: BulkheadGate, _ id: UInt64, _ call: inout CallState) async throws {
        let timeout = call.snapshot.value(gate.slots.timeout)
        let deadline = timeout > 0 ? call.attemptStart + nanos(fromSeconds: timeout) : nil
        do {
            try await gate.wait(id: id, timeoutAt: deadline, time: time)
        } catch {
            if let error = error as? ResilienceError, error.code == .bulkheadQueueTimeout {
                events?.emit(PolicyEvent(pipeline: name, kind: .bulkheadRejected(queueTimedOut: true), time: time.now()))
            }
            throw error
        }
    }

    func admitRateLimit(_ gate: RateLimitGate, _ call: inout CallState) throws {
        let now = call.attemptStart
        let decision = gate.limiter.acquire(1, now: now, limits: gate.limits(call.snapshot, shadow: false))
        if gate.isShadowed(call.snapshot) {
            let shadow = gate.shadowLimiter.acquire(1, now: now, limits: gate.limits(call.snapshot, shadow: true))
            let verdict = ShadowJudge.admission(
                liveAdmitted: decision.allowed, shadowAdmitted: shadow.allowed,
                rejection: .rejectedByRateLimiter)
            call.judgeShadow(verdict, latency: verdict == .rejectedByRateLimiter ? 0 : nil)
        }
        guard decision.allowed else {
            let after = seconds(fromNanos: decision.retryAfter)
            events?.emit(PolicyEvent(pipeline: name, kind: .rateLimited(retryAfter: after), time: now))
            throw ResilienceError(
                .rateLimited, pipeline: name, "\(name): rate limit reached",
                retryAfter: decision.retryAfter == .max ? nil : .nanoseconds(decision.retryAfter))
        }
    }

    private func runRetry<T: Sendable>(
        _ runner: RetryRunner, _ index: Int, _ call: inout CallState, _ operation: @Sendable (CallContext) async throws -> T
    ) async throws -> T {
        let snapshot = call.snapshot
        let settings = runner.settings(snapshot)
        if let budget = runner.budget, let slot = runner.slots.budgetRatio {
            budget.deposit(ratio: snapshot.value(slot))
        }
        let shadowed = runner.isShadowed(snapshot)
        let shadowMax = shadowed ? Int(snapshot.effectiveShadow(runner.slots.maxAttempts)) : 0
        var outcomeAtShadowLimit: Outcome?
        var previousDelay = settings.baseDelay
        var attempt = 1
        while true {
            call.attempt = attempt
            call.report?.attempts = attempt  // survives a timeout that discards this copy of the call
            do {
                let value = try await run(index + 1, &call, operation)
                if shadowed {
                    call.judgeShadow(
                        ShadowJudge.retry(
                            attempts: attempt, succeeded: true, ranOut: false, liveMax: settings.maxAttempts,
                            shadowMax: shadowMax, outcomeAtShadowLimit: outcomeAtShadowLimit))
                }
                return value
            } catch {
                if attempt == shadowMax { outcomeAtShadowLimit = Self.outcome(of: error) }
                let retryable = runner.shouldRetry(error)
                let ranOut = retryable && attempt >= settings.maxAttempts
                // Read only for an error that would be retried, so hints of errors that are not cost nothing.
                let hint = retryable && !ranOut ? RetryCore.retryAfterHint(of: error) : nil
                let hintTooLong = hint.map { !RetryCore.accepts(hint: $0, settings: settings) } ?? false
                if !retryable || ranOut || hintTooLong {
                    if shadowed {
                        call.judgeShadow(
                            ShadowJudge.retry(
                                attempts: attempt, succeeded: false, ranOut: ranOut, liveMax: settings.maxAttempts,
                                shadowMax: shadowMax, outcomeAtShadowLimit: outcomeAtShadowLimit))
                    }
                    if ranOut && attempt > 1 {
                        events?.emit(PolicyEvent(pipeline: name, kind: .retryExhausted(attempts: attempt), time: endTime(&call)))
                    }
                    throw error
                }
                if let budget = runner.budget, !budget.withdraw() {
                    events?.emit(PolicyEvent(pipeline: name, kind: .retryBudgetExhausted, time: endTime(&call)))
                    throw error
                }
                let backoff = RetryCore.delay(afterAttempt: attempt, previous: previousDelay, settings: settings, unit: random.nextUnit())
                previousDelay = backoff
                let delay = max(backoff, hint ?? 0)
                let wake = endTime(&call) + nanos(fromSeconds: delay)
                call.report?.retries.append(CallReport.Retry(attempt: attempt + 1, delay: delay, time: endTime(&call)))
                events?.emit(PolicyEvent(pipeline: name, kind: .retryAttempt(attempt: attempt + 1, delay: delay), time: endTime(&call)))
                try await time.sleep(until: wake)
                attempt += 1
                call.attemptStart = time.now()
                call.attemptEnd = nil
            }
        }
    }

    private func runTimeout<T: Sendable>(
        _ runner: TimeoutRunner, _ index: Int, _ call: inout CallState, _ operation: @Sendable (CallContext) async throws -> T
    ) async throws -> T {
        let snapshot = call.snapshot
        let duration = nanos(fromSeconds: snapshot.value(runner.durationSlot))
        let started = call.attemptStart
        let deadline = started &+ duration
        let shadowDuration = snapshot.shadowValue(runner.durationSlot).map(nanos(fromSeconds:))
        // Only pipelines with an enforced timeout use this engine (cooperative timeouts run in
        // the flat engine), and a pipeline has one timeout policy at most: this races the rest
        // of the pipeline in a child task against a timer child.
        let outer = call
        let innermost = index + 1 == stages.count
        let context = CallContext(variant: call.variant >= 0 ? variantWindows[call.variant].name : nil, attempt: call.attempt)
        let race = try await withoutActuallyEscaping(operation) { escapable in
            try await withThrowingTaskGroup(of: TimeoutRace<T>.self) { group in
                if innermost {
                    // Nothing inside the timeout: the child runs only the operation (a smaller child task).
                    group.addTask { .finished(try await escapable(context), nil) }
                } else {
                    group.addTask {
                        var inner = outer
                        let value = try await self.run(index + 1, &inner, escapable)
                        return .finished(value, inner)
                    }
                }
                group.addTask {
                    try await self.time.sleep(until: deadline)
                    return .timedOut
                }
                // Two children were added, so `next()` returns one of them.
                guard let first = try await group.next() else { throw CancellationError() }
                group.cancelAll()
                return first
            }
        }
        switch race {
        case .finished(let value, let inner):
            if let inner { call = inner }
            if let shadowDuration {
                let end = endTime(&call)
                call.judgeShadow(
                    ShadowJudge.timeout(liveTimedOut: false, latency: end - started, live: duration, shadow: shadowDuration),
                    latency: min(end - started, shadowDuration))
            }
            return value
        case .timedOut:
            let end = endTime(&call)
            if let shadowDuration {
                call.judgeShadow(ShadowJudge.timeout(liveTimedOut: true, latency: end - started, live: duration, shadow: shadowDuration))
            }
            events?.emit(PolicyEvent(pipeline: name, kind: .timeout(after: seconds(fromNanos: duration)), time: end))
            throw ResilienceError(.timedOut, pipeline: name, "\(name): timed out after \(seconds(fromNanos: duration)) s")
        }
    }
}
