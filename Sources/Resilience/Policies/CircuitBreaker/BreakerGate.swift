import Synchronization

/// The async-side shell of a circuit breaker in a pipeline: the state machine
/// (and its shadow) behind a short lock taken only by calls and operator
/// commands, with the state published in atomics for lock-free observers.
public final class BreakerGate: Sendable {
    private struct Machines {
        var live: CircuitBreakerCore
        var shadow: CircuitBreakerCore?
    }

    private let machines: Locked<Machines>
    private let publishedState = Atomic<UInt8>(0)
    private let publishedCalls = Atomic<Int>(0)
    private let publishedFailures = Atomic<Int>(0)
    private let publishedShadowState = Atomic<UInt8>(255)
    // True while the live machine is closed in normal mode and no shadow machine exists.
    private let fastPermit = Atomic<Bool>(false)
    let firstSlot: Int
    let time: any TimeSource
    let onTransition: @Sendable (BreakerTransition) -> Void

    init(spec: CircuitBreaker, firstSlot: Int, time: any TimeSource, onTransition: @escaping @Sendable (BreakerTransition) -> Void) {
        var core = CircuitBreakerCore(window: spec.window)
        core.setMetricsOnly(spec.metricsOnly)
        machines = Locked(Machines(live: core, shadow: nil))
        fastPermit.store(core.mode == .normal, ordering: .relaxed)
        self.firstSlot = firstSlot
        self.time = time
        self.onTransition = onTransition
    }

    static let slotCount = 8

    @inline(__always)
    func settings(_ snapshot: KnobSnapshot, shadow: Bool) -> BreakerSettings {
        func read(_ offset: Int) -> Double {
            shadow ? snapshot.effectiveShadow(firstSlot + offset) : snapshot.value(firstSlot + offset)
        }
        return BreakerSettings(
            failureRateThreshold: read(0), slowCallRateThreshold: read(1), slowCallDuration: nanos(fromSeconds: read(2)),
            minimumCalls: Int(read(3)), openDuration: nanos(fromSeconds: read(4)), openDurationMultiplier: read(5),
            maxOpenDuration: nanos(fromSeconds: read(6)), halfOpenCalls: Int(read(7)))
    }

    @inline(__always)
    func isShadowed(_ snapshot: KnobSnapshot) -> Bool {
        (snapshot.shadowMask >> UInt32(firstSlot)) & 0xFF != 0
    }

    /// Live decision, and the shadow's decision when shadowed.
    @inline(__always)
    func decide(now: Int64, snapshot: KnobSnapshot) -> (live: BreakerDecision, shadow: BreakerDecision?) {
        let shadowed = isShadowed(snapshot)
        // Closed, in normal mode, without a shadow machine to feed: nothing to decide under the lock.
        // (A call racing with the opening transition may still pass, as with any breaker.)
        if !shadowed && fastPermit.load(ordering: .acquiring) {
            return (.permitted(trial: false), nil)
        }
        let live = settings(snapshot, shadow: false)
        let (decision, shadowDecision, transition) = machines.withLock { m -> (BreakerDecision, BreakerDecision?, BreakerTransition?) in
            let (decision, transition) = m.live.decide(now: now, settings: live)
            var shadowDecision: BreakerDecision?
            if shadowed {
                if m.shadow == nil { m.shadow = m.live }
                shadowDecision = m.shadow!.decide(now: now, settings: settings(snapshot, shadow: true)).0
            } else if m.shadow != nil {
                m.shadow = nil
            }
            publish(&m)
            return (decision, shadowDecision, transition)
        }
        if let transition { onTransition(transition) }
        return (decision, shadowDecision)
    }

    /// Records a permitted call's outcome in live (and shadow, when it admitted the call too).
    @inline(__always)
    func record(failure: Bool, latency: Int64, trial: Bool, shadowTrial: Bool?, now: Int64, snapshot: KnobSnapshot) {
        let live = settings(snapshot, shadow: false)
        let transition = machines.withLock { m -> BreakerTransition? in
            let transition = m.live.record(failure: failure, latency: latency, trial: trial, now: now, settings: live)
            if let shadowTrial, m.shadow != nil {
                _ = m.shadow!.record(
                    failure: failure, latency: latency, trial: shadowTrial, now: now,
                    settings: settings(snapshot, shadow: true))
            }
            publish(&m)
            return transition
        }
        if let transition { onTransition(transition) }
    }

    /// Returns trial slots of a call that ended without an outcome worth recording.
    func releaseTrial(trial: Bool, shadowTrial: Bool?) {
        machines.withLock { m in
            if trial { m.live.releaseTrial() }
            if shadowTrial == true { m.shadow?.releaseTrial() }
        }
    }

    private func publish(_ m: inout Machines) {
        fastPermit.store(m.live.state == .closed && m.live.mode == .normal && m.shadow == nil, ordering: .releasing)
        publishedState.store(Self.code(m.live.state), ordering: .relaxed)
        publishedCalls.store(m.live.window.calls, ordering: .relaxed)
        publishedFailures.store(m.live.window.failures, ordering: .relaxed)
        publishedShadowState.store(m.shadow.map { Self.code($0.state) } ?? 255, ordering: .relaxed)
    }

    private static func code(_ state: CircuitState) -> UInt8 {
        switch state {
        case .closed: 0
        case .open: 1
        case .halfOpen: 2
        }
    }

    private static func state(_ code: UInt8) -> CircuitState? {
        switch code {
        case 0: .closed
        case 1: .open
        case 2: .halfOpen
        default: nil
        }
    }

    // MARK: - Observing and operating

    /// The live state (lock-free).
    public var state: CircuitState { Self.state(publishedState.load(ordering: .relaxed)) ?? .closed }

    /// The shadow state machine's state, when a shadow is active (lock-free).
    public var shadowState: CircuitState? { Self.state(publishedShadowState.load(ordering: .relaxed)) }

    /// Calls and failures in the live window (lock-free, updated per call).
    public var windowCounts: (calls: Int, failures: Int) {
        (publishedCalls.load(ordering: .relaxed), publishedFailures.load(ordering: .relaxed))
    }

    /// A copy of the live state machine (takes the breaker's short lock).
    public var core: CircuitBreakerCore { machines.withLock { $0.live } }

    /// Refuses every call until ``reset()``.
    public func forceOpen() { operate { $0.forceOpen(now: $1) } }

    /// Lets every call through until ``reset()``.
    public func forceClosed() { operate { $0.forceClosed(now: $1) } }

    /// Back to normal, closed, with an empty window.
    public func reset() { operate { $0.reset(now: $1) } }

    /// Records without ever refusing (`true`), or back to normal (`false`).
    public func setMetricsOnly(_ on: Bool) {
        operate { core, _ in
            core.setMetricsOnly(on); return nil
        }
    }

    private func operate(_ body: (inout CircuitBreakerCore, Int64) -> BreakerTransition?) {
        let now = time.now()
        let transition = machines.withLock { m -> BreakerTransition? in
            let transition = body(&m.live, now)
            publish(&m)
            return transition
        }
        if let transition { onTransition(transition) }
    }
}
