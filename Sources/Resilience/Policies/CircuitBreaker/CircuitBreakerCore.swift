/// The synchronous state machine of a circuit breaker: decides whether a call
/// may pass and records outcomes, at instants given in nanoseconds.
///
/// Settings are passed to every method, never stored, so changing a knob
/// never resets the window, the state or the half-open trial count. The
/// simulator drives this type directly; ``CircuitBreaker`` wraps it for async use.
public struct CircuitBreakerCore: Sendable {
    /// The current state.
    public private(set) var state: CircuitState = .closed
    /// Forced or metrics-only behaviour, or `.normal`.
    public private(set) var mode: BreakerMode = .normal
    /// The sliding window (closed state).
    public private(set) var window: BreakerWindow
    /// When an open breaker next lets trial calls through (nanoseconds).
    public private(set) var openUntil: Int64 = 0
    /// Openings since the breaker last closed (drives open-duration growth).
    public private(set) var consecutiveOpenings = 0
    /// Trial calls let through in this half-open period.
    public private(set) var trialsAdmitted = 0
    /// Trial calls whose outcome came back in this half-open period.
    public private(set) var trialsRecorded = 0
    private var trialFailures = 0
    private var trialSlow = 0

    /// Makes a closed breaker with an empty window.
    public init(window: BreakerWindowKind) {
        self.window = BreakerWindow(window)
    }

    // MARK: - Deciding

    /// Decides whether a call starting at `now` may pass.
    public mutating func decide(now: Int64, settings: BreakerSettings) -> (BreakerDecision, BreakerTransition?) {
        switch mode {
        case .forcedOpen: return (.rejected(retryAfter: .max), nil)
        case .forcedClosed, .metricsOnly: return (.permitted(trial: false), nil)
        case .normal: break
        }
        switch state {
        case .closed:
            return (.permitted(trial: false), nil)
        case .open:
            if now < openUntil { return (.rejected(retryAfter: openUntil - now), nil) }
            let transition = move(to: .halfOpen, now: now)
            return (admitTrial(now: now, settings: settings), transition)
        case .halfOpen:
            if trialsRecorded >= settings.halfOpenCalls, let transition = judgeTrials(now: now, settings: settings) {
                // Fewer trials are needed after a reconfiguration: judge now.
                let (decision, next) = decide(now: now, settings: settings)
                return (decision, next ?? transition)
            }
            return (admitTrial(now: now, settings: settings), nil)
        }
    }

    private mutating func admitTrial(now: Int64, settings: BreakerSettings) -> BreakerDecision {
        if trialsAdmitted < settings.halfOpenCalls {
            trialsAdmitted += 1
            return .permitted(trial: true)
        }
        return .rejected(retryAfter: 0)
    }

    // MARK: - Recording

    /// Records the outcome of a call that was permitted.
    ///
    /// - Parameters:
    ///   - failure: whether the call failed (timeouts count as failures).
    ///   - latency: how long it took, nanoseconds (compared with the slow-call duration).
    ///   - trial: the `trial` flag of the decision that let it through.
    public mutating func record(
        failure: Bool, latency: Int64, trial: Bool, now: Int64, settings: BreakerSettings
    ) -> BreakerTransition? {
        let slow = latency >= settings.slowCallDuration
        switch state {
        case .closed:
            guard !trial else { return nil }
            window.add(failure: failure, slow: slow, now: now)
            guard mode == .normal else { return nil }
            if window.calls >= max(1, settings.minimumCalls)
                && (window.failureRate >= settings.failureRateThreshold || window.slowCallRate >= settings.slowCallRateThreshold)
            {
                return open(now: now, settings: settings)
            }
            return nil
        case .halfOpen:
            guard trial else { return nil }
            trialsRecorded += 1
            if failure { trialFailures += 1 }
            if slow { trialSlow += 1 }
            if trialsRecorded >= settings.halfOpenCalls { return judgeTrials(now: now, settings: settings) }
            return nil
        case .open:
            return nil
        }
    }

    /// Gives back a trial slot whose call ended without saying anything about the
    /// dependency (cancelled, or refused by another policy).
    public mutating func releaseTrial() {
        if state == .halfOpen && trialsAdmitted > trialsRecorded { trialsAdmitted -= 1 }
    }

    private mutating func judgeTrials(now: Int64, settings: BreakerSettings) -> BreakerTransition? {
        guard trialsRecorded > 0 else { return nil }
        let failureRate = Double(trialFailures) / Double(trialsRecorded)
        let slowRate = Double(trialSlow) / Double(trialsRecorded)
        if failureRate >= settings.failureRateThreshold || slowRate >= settings.slowCallRateThreshold {
            return open(now: now, settings: settings)
        }
        window.reset()
        consecutiveOpenings = 0
        return move(to: .closed, now: now)
    }

    private mutating func open(now: Int64, settings: BreakerSettings) -> BreakerTransition? {
        consecutiveOpenings += 1
        var duration = Double(settings.openDuration)
        if settings.openDurationMultiplier > 1 {
            for _ in 1..<consecutiveOpenings where duration < Double(settings.maxOpenDuration) {
                duration *= settings.openDurationMultiplier
            }
        }
        let capped = Int64(min(duration, Double(max(settings.maxOpenDuration, settings.openDuration))))
        openUntil = now &+ capped
        return move(to: .open, now: now)
    }

    private mutating func move(to next: CircuitState, now: Int64) -> BreakerTransition? {
        guard next != state else { return nil }
        let transition = BreakerTransition(from: state, to: next, at: now)
        state = next
        trialsAdmitted = 0
        trialsRecorded = 0
        trialFailures = 0
        trialSlow = 0
        return transition
    }

    // MARK: - Manual control

    /// Refuses every call until ``reset(now:)``.
    public mutating func forceOpen(now: Int64) -> BreakerTransition? {
        mode = .forcedOpen
        return move(to: .open, now: now)
    }

    /// Lets every call through until ``reset(now:)``.
    public mutating func forceClosed(now: Int64) -> BreakerTransition? {
        mode = .forcedClosed
        return move(to: .closed, now: now)
    }

    /// Records but never refuses (or returns to normal with `false`).
    public mutating func setMetricsOnly(_ on: Bool) {
        mode = on ? .metricsOnly : .normal
    }

    /// Back to normal mode, closed, with an empty window.
    public mutating func reset(now: Int64) -> BreakerTransition? {
        mode = .normal
        window.reset()
        consecutiveOpenings = 0
        return move(to: .closed, now: now)
    }
}
