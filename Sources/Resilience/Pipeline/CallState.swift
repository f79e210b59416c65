/// What the operation of a call may want to know.
public struct CallContext: Sendable {
    /// The traffic-split variant the call was routed to, if the pipeline splits traffic.
    public var variant: String?
    /// The attempt number (1 for the first).
    public var attempt: Int
}

/// The per-call state threaded through a pipeline's stages (lives in the call's async frame).
struct CallState: @unchecked Sendable {
    // @unchecked: only for the unowned snapshot reference; the call's first frame
    // owns the snapshot until the call ends, and every field is a Sendable value.
    unowned(unsafe) let snapshot: KnobSnapshot
    let key: String?
    let start: Int64
    var attemptStart: Int64
    var attemptEnd: Int64?
    var attempt = 1
    var variant = -1
    var shadowVerdict: Outcome?
    var shadowLatency: Int64?
    // What the synchronous stages of the current attempt admitted, to be settled
    // in reverse when the attempt ends (one breaker and one bulkhead per pipeline).
    var breakerTrial = false
    var breakerShadowTrial: Bool?
    var breakerStarted: Int64 = 0
    // Flat execution (see Pipeline+FlatExecution.swift): the next stage to admit,
    // the retry stage's per-call state, and the cooperative deadline in force.
    var cursor = 0
    var retrySettings = RetrySettings()
    var retryShadowMax = 0
    var retryShadowed = false
    var retryPreviousDelay = 0.0
    var retryOutcomeAtShadowLimit: Outcome?
    var deadline: Int64?
    var timeoutStarted: Int64 = 0
    var timeoutDuration: Int64 = 0
    var timeoutShadowDuration: Int64?

    init(snapshot: KnobSnapshot, key: String?, start: Int64) {
        self.snapshot = snapshot
        self.key = key
        self.start = start
        self.attemptStart = start
    }

    /// Records what the shadow configuration would have done, unless an earlier stage already decided.
    @inline(__always)
    mutating func judgeShadow(_ outcome: Outcome?, latency: Int64? = nil) {
        if let outcome, shadowVerdict == nil {
            shadowVerdict = outcome
            shadowLatency = latency
        }
    }
}
