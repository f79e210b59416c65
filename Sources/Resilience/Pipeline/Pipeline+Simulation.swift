/// What a simulated call needs next, as returned by the ``Pipeline`` methods
/// that drive a call by hand on virtual time.
public enum SimulationStep: Sendable, Hashable {
    /// Start the operation now; report its end with ``Pipeline/finishAttempt(_:error:at:)``.
    /// With a timeout policy, end the attempt no later than ``SimulatedCall/deadline``.
    case run(CallContext)
    /// The call waits in a bulkhead queue; ask ``Pipeline/pollQueue(_:at:giveUp:)`` whenever
    /// permits may have been returned, and with `giveUp: true` at `until` (the queue timeout).
    case queued(until: Int64?)
    /// The call backs off before another attempt; call ``Pipeline/resume(_:at:)`` at `until`.
    case backoff(until: Int64)
    /// The call is over; its outcome is already recorded in the pipeline's windows.
    case finished(Outcome)
}

/// A call driven step by step on virtual time, without a task (see ``Pipeline/beginSimulatedCall(key:at:)``).
public struct SimulatedCall: Sendable {
    var state: CallState
    /// Owns the configuration `state` refers to (unowned) for the whole call.
    let snapshot: KnobSnapshot
    var queueGate: Unowned<BulkheadGate>?
    var queueTicket: UInt64 = 0

    /// The attempt now running or next to run (1 for the first).
    public var attempt: Int { state.attempt }
    /// The instant by which a timeout policy ends the current attempt, if the pipeline has one.
    public var deadline: Int64? { state.deadline }
    /// The instant the call began: its latency, as the windows record it, is its end minus this.
    public var start: Int64 { state.start }
}

/// Driving a pipeline by hand on virtual time: the simulator's way through it.
///
/// The same admission and settlement code as ``Pipeline/execute(key:_:)`` runs (breaker,
/// bulkhead, rate limiter, split, retry and its budget, timeout, shadows, windows, events);
/// only the waiting is left to the caller, who passes every instant explicitly (nanoseconds
/// on its virtual clock) and never creates a task. A timeout in either mode is judged from
/// the attempt's reported end: end it no later than ``SimulatedCall/deadline``.
///
/// ```swift
/// var (call, step) = pipeline.beginSimulatedCall(at: now)
/// while true {
///     switch step {
///     case .run: step = pipeline.finishAttempt(&call, error: backendFails ? err : nil, at: now + latency)
///     case .backoff(let until): step = pipeline.resume(&call, at: until)
///     case .queued(let until): step = pipeline.pollQueue(&call, at: until ?? later, giveUp: true) ?? step
///     case .finished(let outcome): record(outcome); return
///     }
/// }
/// ```
extension Pipeline {
    /// Starts a call at `now`; admits it through the pipeline's synchronous stages.
    public func beginSimulatedCall(key: String? = nil, at now: Int64) -> (SimulatedCall, SimulationStep) {
        let snapshot = knobs.read()
        var call = SimulatedCall(state: CallState(snapshot: snapshot, key: key, start: now), snapshot: snapshot)
        let step = simulatedAdmission(&call)
        return (call, step)
    }

    /// Ends the running attempt at `now`, with the operation's error or `nil` for success.
    public func finishAttempt(_ call: inout SimulatedCall, error: (any Error)?, at now: Int64) -> SimulationStep {
        call.state.attemptEnd = now
        return simulatedSettlement(&call, error: error)
    }

    /// Starts the next attempt at `now`, after a ``SimulationStep/backoff(until:)``.
    public func resume(_ call: inout SimulatedCall, at now: Int64) -> SimulationStep {
        call.state.attempt += 1
        call.state.attemptStart = now
        call.state.attemptEnd = nil
        return simulatedAdmission(&call)
    }

    /// For a queued call: continues once a permit reached it, or gives up at `now` when
    /// `giveUp` is set (the queue timeout). Returns `nil` while it still waits.
    public func pollQueue(_ call: inout SimulatedCall, at now: Int64, giveUp: Bool) -> SimulationStep? {
        guard let gate = call.queueGate?.object else { return nil }
        if gate.isWaiting(call.queueTicket) {
            guard giveUp, gate.leave(call.queueTicket) else { return nil }
            call.queueGate = nil
            call.state.attemptEnd = now
            events?.emit(PolicyEvent(pipeline: name, kind: .bulkheadRejected(queueTimedOut: true), time: now))
            return simulatedSettlement(
                &call,
                error: ResilienceError(
                    .bulkheadQueueTimeout, pipeline: name, "\(name): waited longer than the bulkhead queue timeout"))
        }
        call.queueGate = nil
        call.state.cursor += 1  // the bulkhead stage now holds a permit
        return simulatedAdmission(&call)
    }

    private func simulatedAdmission(_ call: inout SimulatedCall) -> SimulationStep {
        switch admitFlat(&call.state) {
        case .admitted:
            let variant = call.state.variant >= 0 ? variantWindows[call.state.variant].name : nil
            return .run(CallContext(variant: variant, attempt: call.state.attempt))
        case .mustWait(let gate, let ticket):
            call.queueGate = Unowned(gate)
            call.queueTicket = ticket
            let timeout = call.state.snapshot.value(gate.slots.timeout)
            return .queued(until: timeout > 0 ? call.state.attemptStart + nanos(fromSeconds: timeout) : nil)
        case .failed(let error):
            call.state.attemptEnd = call.state.attemptStart
            return simulatedSettlement(&call, error: error)
        }
    }

    private func simulatedSettlement(_ call: inout SimulatedCall, error: (any Error)?) -> SimulationStep {
        switch settleFlat(&call.state, error: error) {
        case .retry(let wake):
            return .backoff(until: wake)
        case .done(let error):
            let outcome = error.map(Self.outcome(of:)) ?? .success
            finish(&call.state, outcome)
            return .finished(outcome)
        }
    }
}
