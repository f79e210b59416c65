/// The state of a circuit breaker.
public enum CircuitState: String, Sendable, Hashable, CaseIterable {
    /// Calls pass; outcomes fill the sliding window.
    case closed
    /// Calls are refused until the open duration has passed.
    case open
    /// A few trial calls pass; their outcomes decide between closed and open.
    case halfOpen = "half_open"
}

/// How a breaker behaves apart from its state machine.
public enum BreakerMode: String, Sendable, Hashable {
    /// The state machine decides.
    case normal
    /// Every call is refused until reset.
    case forcedOpen = "forced_open"
    /// Every call passes until reset; the window still records.
    case forcedClosed = "forced_closed"
    /// Records outcomes and reports what it would do, but never refuses a call.
    case metricsOnly = "metrics_only"
}

/// A breaker's change of state.
public struct BreakerTransition: Sendable, Hashable {
    /// The state before.
    public var from: CircuitState
    /// The state after.
    public var to: CircuitState
    /// When, in nanoseconds.
    public var at: Int64
}

/// What a breaker decided for one call.
public enum BreakerDecision: Sendable, Hashable {
    /// The call may go ahead; `trial` is true for a half-open trial call.
    case permitted(trial: Bool)
    /// The call is refused; the breaker may let calls through after `retryAfter` nanoseconds.
    case rejected(retryAfter: Int64)

    /// Whether the call may go ahead.
    @inlinable public var isPermitted: Bool {
        if case .permitted = self { return true }
        return false
    }
}
