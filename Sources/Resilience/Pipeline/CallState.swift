/// What the operation of a call may want to know.
public struct CallContext: Sendable, Hashable {
    /// The traffic-split variant the call was routed to, if the pipeline splits traffic.
    public var variant: String?
    /// The attempt number (1 for the first).
    public var attempt: Int

    /// Makes a context.
    @inlinable
    public init(variant: String?, attempt: Int) {
        self.variant = variant
        self.attempt = attempt
    }
}

/// The per-call state threaded through a pipeline's stages (lives in the call's async frame).
@usableFromInline
struct CallState: @unchecked Sendable {
    // @unchecked: only for the unowned snapshot reference; the call's first frame
    // owns the snapshot until the call ends, and every field is a Sendable value.
    @usableFromInline unowned(unsafe) let snapshot: KnobSnapshot
    @usableFromInline let key: String?
    @usableFromInline let start: Int64
    @usableFromInline var attemptStart: Int64
    @usableFromInline var attemptEnd: Int64?
    @usableFromInline var attempt = 1
    @usableFromInline var variant = -1
    @usableFromInline var shadowVerdict: Outcome?
    @usableFromInline var shadowLatency: Int64?
    // What the synchronous stages of the current attempt admitted, to be settled
    // in reverse when the attempt ends (one breaker and one bulkhead per pipeline).
    @usableFromInline var breakerTrial = false
    @usableFromInline var breakerShadowTrial: Bool?
    @usableFromInline var breakerStarted: Int64 = 0
    // Flat execution (see Pipeline+FlatExecution.swift): the next stage to admit,
    // the retry stage's per-call state, and the cooperative deadline in force.
    @usableFromInline var cursor = 0
    @usableFromInline var retrySettings = RetrySettings()
    @usableFromInline var retryShadowMax = 0
    @usableFromInline var retryShadowed = false
    @usableFromInline var retryPreviousDelay = 0.0
    @usableFromInline var retryOutcomeAtShadowLimit: Outcome?
    @usableFromInline var deadline: Int64?
    @usableFromInline var timeoutStarted: Int64 = 0
    @usableFromInline var timeoutDuration: Int64 = 0
    @usableFromInline var timeoutShadowDuration: Int64?
    /// Filled when the call ends and when it retries, if the caller asked for a report.
    @usableFromInline let report: CallReport?

    @usableFromInline
    init(snapshot: KnobSnapshot, key: String?, start: Int64, report: CallReport? = nil) {
        self.snapshot = snapshot
        self.key = key
        self.start = start
        self.attemptStart = start
        self.report = report
    }

    /// Records what the shadow configuration would have done, unless an earlier stage already decided.
    @inlinable @inline(__always)
    mutating func judgeShadow(_ outcome: Outcome?, latency: Int64? = nil) {
        if let outcome, shadowVerdict == nil {
            shadowVerdict = outcome
            shadowLatency = latency
        }
    }
}
