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

    @usableFromInline
    func executeCall<T: Sendable>(key: String?, _ operation: @Sendable (CallContext) async throws -> T) async throws -> T {
        let start = time.now()
        var call = CallState(snapshot: knobs.read(), key: key, start: start)
        do {
            let value = try await run(0, &call, operation)
            finish(&call, .success)
            return value
        } catch {
            finish(&call, Self.outcome(of: error))
            throw error
        }
    }

    /// The outcome windows record for an error.
    static func outcome(of error: any Error) -> Outcome {
        if let error = error as? ResilienceError { return error.outcome }
        return .failure
    }

    @inline(__always)
    func endTime(_ call: inout CallState) -> Int64 {
        if let end = call.attemptEnd { return end }
        let end = time.now()
        call.attemptEnd = end
        return end
    }

    private func finish(_ call: inout CallState, _ outcome: Outcome) {
        let end = endTime(&call)
        let latency = end - call.start
        windows.record(outcome, latency: latency, now: end)
        if call.variant >= 0 {
            variantWindows[call.variant].windows.record(outcome, latency: latency, now: end)
        }
        if call.snapshot.hasShadows {
            shadowWindows.record(call.shadowVerdict ?? outcome, latency: call.shadowLatency ?? latency, now: end)
        }
    }

    // MARK: - Stages

    func run<T: Sendable>(
        _ index: Int, _ call: inout CallState, _ operation: @Sendable (CallContext) async throws -> T
    ) async throws -> T {
        if index == stages.count {
            let variant = call.variant >= 0 ? variantWindows[call.variant].name : nil
            return try await operation(CallContext(variant: variant, attempt: call.attempt))
        }
        switch stages[index] {
        case .timeout(let runner):
            return try await runTimeout(runner, index, &call, operation)
        case .retry(let runner):
            return try await runRetry(runner, index, &call, operation)
        case .breaker(let gate):
            return try await runBreaker(gate, index, &call, operation)
        case .bulkhead(let gate):
            return try await runBulkhead(gate, index, &call, operation)
        case .rateLimit(let gate):
            return try await runRateLimit(gate, index, &call, operation)
        case .split(let router):
            call.variant = router.choose(key: call.key, snapshot: call.snapshot)
            return try await run(index + 1, &call, operation)
        }
    }

    private func runBreaker<T: Sendable>(
        _ gate: BreakerGate, _ index: Int, _ call: inout CallState, _ operation: @Sendable (CallContext) async throws -> T
    ) async throws -> T {
        let started = call.attemptStart
        let (live, shadow) = gate.decide(now: started, snapshot: call.snapshot)
        var shadowTrial: Bool?
        if let shadow {
            switch (live, shadow) {
            case (.permitted, .rejected): call.judgeShadow(.rejectedByBreaker, latency: 0)
            case (.rejected, .permitted): call.judgeShadow(.unknown)
            case (.permitted, .permitted(let trial)): shadowTrial = trial
            case (.rejected, .rejected): break
            }
        }
        let trial: Bool
        switch live {
        case .permitted(let isTrial):
            trial = isTrial
        case .rejected(let after):
            throw ResilienceError(.circuitOpen, pipeline: name, "\(name): circuit breaker is open",
                                  retryAfter: after == .max ? nil : .nanoseconds(after))
        }
        do {
            let value = try await run(index + 1, &call, operation)
            let end = endTime(&call)
            gate.record(failure: false, latency: end - started, trial: trial, shadowTrial: shadowTrial, now: end, snapshot: call.snapshot)
            return value
        } catch {
            // Cancellation and other policies' refusals say nothing about the dependency.
            let counts = !(error is CancellationError) && !((error as? ResilienceError)?.isRejection ?? false)
            let end = endTime(&call)
            if counts {
                gate.record(failure: true, latency: end - started, trial: trial, shadowTrial: shadowTrial, now: end, snapshot: call.snapshot)
            } else {
                gate.releaseTrial(trial: trial, shadowTrial: shadowTrial)
            }
            throw error
        }
    }

    private func runBulkhead<T: Sendable>(
        _ gate: BulkheadGate, _ index: Int, _ call: inout CallState, _ operation: @Sendable (CallContext) async throws -> T
    ) async throws -> T {
        let (admission, id, inUse, queued) = gate.tryAcquire()
        let snapshot = call.snapshot
        if snapshot.shadowMask & (0b11 << UInt32(gate.slots.capacity)) != 0 {
            call.judgeShadow(BulkheadGate.judgeShadow(
                liveAdmitted: admission != .rejected, inUseBefore: inUse, queuedBefore: queued,
                shadowCapacity: Int(snapshot.effectiveShadow(gate.slots.capacity)),
                shadowQueue: Int(snapshot.effectiveShadow(gate.slots.queued))), latency: 0)
        }
        switch admission {
        case .rejected:
            events?.emit(PolicyEvent(pipeline: name, kind: .bulkheadRejected(queueTimedOut: false), time: call.attemptStart))
            throw ResilienceError(.bulkheadFull, pipeline: name, "\(name): bulkhead is full (\(inUse) in use, \(queued) queued)")
        case .queued:
            let timeout = snapshot.value(gate.slots.timeout)
            let deadline = timeout > 0 ? call.attemptStart + nanos(fromSeconds: timeout) : nil
            do {
                try await gate.wait(id: id, timeoutAt: deadline, time: time)
            } catch {
                if let error = error as? ResilienceError, error.code == .bulkheadQueueTimeout {
                    events?.emit(PolicyEvent(pipeline: name, kind: .bulkheadRejected(queueTimedOut: true), time: time.now()))
                }
                throw error
            }
        case .acquired:
            break
        }
        do {
            let value = try await run(index + 1, &call, operation)
            gate.release()
            return value
        } catch {
            gate.release()
            throw error
        }
    }

    private func runRateLimit<T: Sendable>(
        _ gate: RateLimitGate, _ index: Int, _ call: inout CallState, _ operation: @Sendable (CallContext) async throws -> T
    ) async throws -> T {
        let now = call.attemptStart
        let decision = gate.limiter.acquire(1, now: now, limits: gate.limits(call.snapshot, shadow: false))
        if gate.isShadowed(call.snapshot) {
            let shadow = gate.shadowLimiter.acquire(1, now: now, limits: gate.limits(call.snapshot, shadow: true))
            if decision.allowed && !shadow.allowed { call.judgeShadow(.rejectedByRateLimiter, latency: 0) }
            if !decision.allowed && shadow.allowed { call.judgeShadow(.unknown) }
        }
        guard decision.allowed else {
            let after = seconds(fromNanos: decision.retryAfter)
            events?.emit(PolicyEvent(pipeline: name, kind: .rateLimited(retryAfter: after), time: now))
            throw ResilienceError(.rateLimited, pipeline: name, "\(name): rate limit reached",
                                  retryAfter: decision.retryAfter == .max ? nil : .nanoseconds(decision.retryAfter))
        }
        return try await run(index + 1, &call, operation)
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
            do {
                let value = try await run(index + 1, &call, operation)
                if shadowed {
                    call.judgeShadow(RetryRunner.judgeShadow(
                        attempts: attempt, succeeded: true, ranOut: false, liveMax: settings.maxAttempts,
                        shadowMax: shadowMax, outcomeAtShadowLimit: outcomeAtShadowLimit))
                }
                return value
            } catch {
                if attempt == shadowMax { outcomeAtShadowLimit = Self.outcome(of: error) }
                let retryable = runner.shouldRetry(error)
                let ranOut = retryable && attempt >= settings.maxAttempts
                if !retryable || ranOut {
                    if shadowed {
                        call.judgeShadow(RetryRunner.judgeShadow(
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
                let delay = RetryCore.delay(afterAttempt: attempt, previous: previousDelay, settings: settings, unit: random.nextUnit())
                previousDelay = delay
                let wake = endTime(&call) + nanos(fromSeconds: delay)
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
        switch runner.mode {
        case .cooperative:
            let effective = min(deadline, Deadline.current?.instant ?? .max)
            let value = try await Deadline.$current.withValue(Deadline(instant: effective, source: time)) {
                try await run(index + 1, &call, operation)
            }
            let end = endTime(&call)
            if end > deadline {
                if let shadowDuration {
                    call.judgeShadow(TimeoutRunner.judgeShadow(liveTimedOut: true, latency: end - started, live: duration, shadow: shadowDuration))
                }
                events?.emit(PolicyEvent(pipeline: name, kind: .timeout(after: seconds(fromNanos: duration)), time: end))
                throw ResilienceError(.timedOut, pipeline: name, "\(name): timed out after \(seconds(fromNanos: duration)) s")
            }
            if let shadowDuration {
                call.judgeShadow(TimeoutRunner.judgeShadow(liveTimedOut: false, latency: end - started, live: duration, shadow: shadowDuration),
                                 latency: min(end - started, shadowDuration))
            }
            return value
        case .enforced:
            let outer = call
            let race = try await withoutActuallyEscaping(operation) { escapable in
                try await withThrowingTaskGroup(of: TimeoutRace<T>.self) { group in
                    group.addTask {
                        var inner = outer
                        let value = try await self.run(index + 1, &inner, escapable)
                        return .finished(value, inner)
                    }
                    group.addTask {
                        try await self.time.sleep(until: deadline)
                        return .timedOut
                    }
                    let first = try await group.next()!
                    group.cancelAll()
                    return first
                }
            }
            switch race {
            case .finished(let value, let inner):
                call = inner
                if let shadowDuration {
                    let end = endTime(&call)
                    call.judgeShadow(TimeoutRunner.judgeShadow(liveTimedOut: false, latency: end - started, live: duration, shadow: shadowDuration),
                                     latency: min(end - started, shadowDuration))
                }
                return value
            case .timedOut:
                let end = endTime(&call)
                if let shadowDuration {
                    call.judgeShadow(TimeoutRunner.judgeShadow(liveTimedOut: true, latency: end - started, live: duration, shadow: shadowDuration))
                }
                events?.emit(PolicyEvent(pipeline: name, kind: .timeout(after: seconds(fromNanos: duration)), time: end))
                throw ResilienceError(.timedOut, pipeline: name, "\(name): timed out after \(seconds(fromNanos: duration)) s")
            }
        }
    }
}
