/// A named chain of resilience policies that calls pass through, with
/// run-time tunable knobs and windowed statistics of every outcome.
///
/// Policies apply in the order written, the first outermost. Each registers
/// its knobs in the registry as `<pipeline>.<policy>.<knob>`. A call reads all
/// knobs once, as one consistent ``KnobSnapshot``, reads the clock once per
/// edge, and records its outcome in the live windows (and the variant's, and
/// the shadow windows when any knob has a shadow value).
///
/// ```swift
/// let checkout = try Pipeline("checkout") {
///     Timeout(.seconds(2))
///     Retry(maxAttempts: 3, backoff: .exponential, jitter: .full)
///     CircuitBreaker(failureRate: 0.5, minimumCalls: 20)
///     Bulkhead(maxConcurrent: 64)
/// }
/// let receipt = try await checkout.execute { try await payments.charge(order) }
/// ```
public final class Pipeline: Sendable {
    /// The pipeline's name (the first part of its knobs' names).
    public let name: String
    /// The pipeline's knobs.
    public let knobs: KnobTable
    /// The registry the knobs are registered in.
    public let registry: ParameterRegistry
    /// The time source calls are timed and sleep on.
    public let time: any TimeSource
    /// Where policy events go, if anywhere.
    public let events: EventStream?
    /// Statistics of every call.
    public let windows: OutcomeWindows
    /// Statistics of what the shadow configuration would have done.
    public let shadowWindows: OutcomeWindows
    /// Statistics per traffic-split variant, in the split's order.
    public let variantWindows: [(name: String, windows: OutcomeWindows)]
    /// The policies, in order.
    public let components: [PipelineComponent]

    let stages: [Stage]
    /// Whether a timeout in enforced mode needs the nested engine (a child task per call).
    @usableFromInline let hasEnforcedTimeout: Bool
    /// Whether a timeout comes before the retry: its deadline bounds every attempt and backoff.
    let timeoutWrapsRetry: Bool
    /// Keeps the objects `stages` refers to (without refcounting) alive.
    let stageOwners: [AnyObject & Sendable]
    let random: SharedRandom

    /// The circuit breaker, if the pipeline has one (to observe or operate it).
    public let breaker: BreakerGate?
    /// The bulkhead, if the pipeline has one.
    public let bulkhead: BulkheadGate?
    /// The rate limiter, if the pipeline has one.
    public let rateLimiter: RateLimitGate?

    /// Makes a pipeline and registers its knobs.
    ///
    /// - Parameters:
    ///   - registry: where the knobs are registered (``ParameterRegistry/shared`` by default).
    ///   - time: the time source (the monotonic clock by default; a ``ClockTimeSource``
    ///     over a ``ManualClock`` in tests).
    ///   - seed: seeds jitter and unkeyed traffic splitting (default: derived from the name).
    ///   - events: where to send policy events, if anywhere.
    /// - Throws: ``KnobError`` when a name is taken or a default is out of bounds.
    public init(
        _ name: String,
        registry: ParameterRegistry = .shared,
        time: any TimeSource = MonotonicTimeSource(),
        seed: UInt64? = nil,
        events: EventStream? = nil,
        @PolicyBuilder policies: () -> [PipelineComponent]
    ) throws(KnobError) {
        guard !name.isEmpty, ParameterRegistry.isWellFormed("\(name).p.k") else {
            throw KnobError(.malformedName, knob: name, "\"\(name)\" is not a pipeline name (letters, digits, _ and -)")
        }
        self.name = name
        self.registry = registry
        self.time = time
        self.events = events
        let components = policies()
        self.components = components
        let seed = seed ?? UInt64(SplitCore.point(forKey: name) * 0x1p53)
        random = SharedRandom(seed: seed)

        var descriptors: [KnobDescriptor] = []
        var stages: [Stage] = []
        var owners: [AnyObject & Sendable] = []
        var breaker: BreakerGate?
        var bulkhead: BulkheadGate?
        var rateLimiter: RateLimitGate?
        var variants: [(name: String, windows: OutcomeWindows)] = []
        let eventSink = events
        for component in components {
            let first = descriptors.count
            descriptors += component.knobs(pipeline: name)
            switch component.spec {
            case .timeout(let spec):
                let runner = TimeoutRunner(mode: spec.mode, durationSlot: first)
                owners.append(runner)
                stages.append(.timeout(Unowned(runner)))
            case .retry(let spec):
                let runner = RetryRunner(spec: spec, firstSlot: first)
                owners.append(runner)
                stages.append(.retry(Unowned(runner)))
            case .breaker(let spec):
                let gate = BreakerGate(spec: spec, firstSlot: first, time: time) { transition in
                    eventSink?.emit(
                        PolicyEvent(
                            pipeline: name, kind: .breakerTransition(from: transition.from, to: transition.to),
                            time: transition.at))
                }
                breaker = breaker ?? gate
                owners.append(gate)
                stages.append(.breaker(Unowned(gate)))
            case .bulkhead(let spec):
                let gate = BulkheadGate(spec: spec, firstSlot: first, pipeline: name)
                bulkhead = bulkhead ?? gate
                owners.append(gate)
                stages.append(.bulkhead(Unowned(gate)))
            case .rateLimit(let spec):
                let gate = RateLimitGate(spec: spec, firstSlot: first)
                rateLimiter = rateLimiter ?? gate
                owners.append(gate)
                stages.append(.rateLimit(Unowned(gate)))
            case .split(let spec):
                let router = SplitRouter(spec: spec, firstSlot: first, seed: seed ^ 0x5EED)
                owners.append(router)
                stages.append(.split(Unowned(router)))
                variants = spec.variants.map { ($0.name, OutcomeWindows()) }
            }
        }
        var seen = Set<String>()
        for descriptor in descriptors where !seen.insert(descriptor.name).inserted {
            throw KnobError(
                .duplicateName, knob: descriptor.name,
                "\(descriptor.name): the pipeline has two policies with this knob; use one policy of each kind")
        }
        knobs = try KnobTable(descriptors: descriptors, gate: registry.gate)
        self.stages = stages
        self.stageOwners = owners
        hasEnforcedTimeout = components.contains { component in
            if case .timeout(let spec) = component.spec { return spec.mode == .enforced }
            return false
        }
        let timeoutIndex = components.firstIndex { if case .timeout = $0.spec { true } else { false } }
        let retryIndex = components.firstIndex { if case .retry = $0.spec { true } else { false } }
        timeoutWrapsRetry = timeoutIndex.flatMap { timeout in retryIndex.map { timeout < $0 } } ?? false
        self.breaker = breaker
        self.bulkhead = bulkhead
        self.rateLimiter = rateLimiter
        windows = OutcomeWindows()
        shadowWindows = OutcomeWindows()
        variantWindows = variants
        try registry.register(self)
        let table = knobs
        for stage in stages {
            guard case .bulkhead(let reference) = stage else { continue }
            let gate = reference.object
            let names = Set(table.descriptors[gate.slots.capacity...gate.slots.timeout].map(\.name))
            table.onChange { [unowned table] changes in
                guard changes.contains(where: { names.contains($0.knob) }) else { return }
                gate.resize(
                    capacity: Int(table.liveValue(gate.slots.capacity)),
                    maxQueued: Int(table.liveValue(gate.slots.queued)))
            }
        }
    }

    /// Makes a pipeline from a preset (see ``Preset``).
    public convenience init(
        _ name: String,
        preset: Preset,
        registry: ParameterRegistry = .shared,
        time: any TimeSource = MonotonicTimeSource(),
        seed: UInt64? = nil,
        events: EventStream? = nil
    ) throws(KnobError) {
        try self.init(name, registry: registry, time: time, seed: seed, events: events) { preset.components }
    }

    /// A typed handle to one of this pipeline's knobs, by its last name part (`"max_attempts"`)
    /// or full name.
    public func knob<Value: KnobValue>(_ name: String, as type: Value.Type = Value.self) -> Adaptive<Value>? {
        let index = knobs.index(of: name) ?? knobs.descriptors.firstIndex { $0.name.hasSuffix(".\(name)") }
        return index.map { Adaptive(table: knobs, index: $0) }
    }

    /// Bytes of statistics storage this pipeline holds (live, shadow and variant windows).
    public var statisticsMemory: Int {
        OutcomeWindows.memoryFootprint * (2 + variantWindows.count)
    }
}
