import Synchronization

/// The knobs of one pipeline: lock-free consistent reads, serialized atomic writes.
///
/// The current configuration is an immutable ``KnobSnapshot`` behind an atomic
/// reference. A reader loads and retains it: no lock, no copying of values,
/// never waiting for a writer. A writer (serialized by the registry's gate)
/// builds a new snapshot and publishes it with one atomic store. The snapshot
/// it replaces is kept alive for a grace period (at least one second and 64
/// newer snapshots) before it is released, so a reader that loaded the old
/// reference just before the swap can still retain it safely; after the
/// retain, the call owns its snapshot for as long as it runs.
public final class KnobTable: @unchecked Sendable {
    // @unchecked: `current` holds a +1 reference managed by hand (released by
    // the writer after the grace period, or in deinit); writer-side state is
    // behind `writer` and the shared gate.

    /// Largest number of knobs one table (one pipeline) holds (shadow mask bits).
    public static let capacity = 32

    /// The knobs, by slot.
    public let descriptors: [KnobDescriptor]
    private let validators: [(@Sendable (Double) -> String?)?]

    private let current: Atomic<Unmanaged<KnobSnapshot>>

    let gate: WriteGate

    private struct WriterState {
        var live: [Double]
        var shadow: [Double?]
        var versions: [UInt64]
        var tableVersion: UInt64 = 0
        var retired = RetiredSnapshots()
        var listeners: [@Sendable ([KnobChange]) -> Void] = []
        var streams: [UInt64: AsyncStream<KnobChange>.Continuation] = [:]
        var nextStream: UInt64 = 0
    }

    private let writer: Locked<WriterState>

    /// Makes a table; each descriptor's default must pass its own checks.
    init(
        descriptors: [KnobDescriptor],
        validators: [(@Sendable (Double) -> String?)?]? = nil,
        gate: WriteGate = WriteGate()
    ) throws(KnobError) {
        guard descriptors.count <= Self.capacity else {
            throw KnobError(
                .tooManyKnobs, knob: descriptors.first?.name ?? "",
                "a pipeline holds at most \(Self.capacity) knobs, got \(descriptors.count)")
        }
        for descriptor in descriptors { _ = try descriptor.validate(descriptor.defaultValue) }
        self.descriptors = descriptors
        self.validators = validators ?? Array(repeating: nil, count: descriptors.count)
        self.gate = gate
        let defaults = descriptors.map(\.defaultValue)
        let empty = [Double?](repeating: nil, count: descriptors.count)
        current = Atomic(Unmanaged.passRetained(KnobSnapshot(live: defaults, shadow: empty, version: 0)))
        writer = Locked(WriterState(live: defaults, shadow: empty, versions: Array(repeating: 0, count: descriptors.count)))
    }

    deinit {
        current.load(ordering: .acquiring).release()
    }

    // MARK: - Reading

    /// The current configuration: one atomic load and a retain, no lock.
    @inline(__always)
    public func read() -> KnobSnapshot {
        current.load(ordering: .acquiring).takeUnretainedValue()
    }

    /// The live value of one slot.
    @inline(__always)
    public func liveValue(_ index: Int) -> Double {
        read().value(index)
    }

    /// The index of the knob with this full name.
    public func index(of name: String) -> Int? {
        descriptors.firstIndex { $0.name == name }
    }

    /// Live value, shadow value and version of one knob, read under the writer lock
    /// (control-plane use; the request path uses ``read()``).
    public func entry(_ index: Int) -> ParameterInfo {
        writer.withLock { state in
            ParameterInfo(
                descriptor: descriptors[index], value: state.live[index], shadow: state.shadow[index],
                version: state.versions[index])
        }
    }

    /// Live value, shadow value and version of every knob (see ``entry(_:)`` for one).
    public func entries() -> [ParameterInfo] {
        writer.withLock { state in
            descriptors.indices.map { i in
                ParameterInfo(descriptor: descriptors[i], value: state.live[i], shadow: state.shadow[i], version: state.versions[i])
            }
        }
    }

    // MARK: - Writing

    /// One validated operation on a slot.
    enum SlotOperation: Sendable {
        case set(Int, Double)
        case setShadow(Int, Double)
        case clearShadow(Int)
        case promote(Int)

        var index: Int {
            switch self {
            case .set(let i, _), .setShadow(let i, _), .clearShadow(let i), .promote(let i): i
            }
        }
    }

    /// Checks a batch against the current values without changing anything.
    /// Call with the gate held when the batch spans tables.
    func validate(_ operations: [SlotOperation]) throws(KnobError) {
        var state = writer.withLock { ($0.live, $0.shadow) }
        for operation in operations { try step(operation, live: &state.0, shadow: &state.1) }
    }

    private func step(_ operation: SlotOperation, live: inout [Double], shadow: inout [Double?]) throws(KnobError) {
        let i = operation.index
        // Fields are read in place: copying a descriptor retains and releases its strings.
        switch operation {
        case .set(_, let value):
            live[i] = try checked(value, slot: i)
        case .setShadow(_, let value):
            guard descriptors[i].shadowable else {
                let name = descriptors[i].name
                throw KnobError(
                    .notShadowable, knob: name,
                    "\(name): traffic split weights cannot be shadowed; a call goes to one variant only")
            }
            shadow[i] = try checked(value, slot: i)
        case .clearShadow:
            shadow[i] = nil
        case .promote:
            guard let value = shadow[i] else {
                let name = descriptors[i].name
                throw KnobError(.noShadow, knob: name, "\(name): has no shadow value to promote")
            }
            live[i] = value
            shadow[i] = nil
        }
    }

    private func checked(_ value: Double, slot: Int) throws(KnobError) -> Double {
        let value = try descriptors[slot].validate(value)
        if let validator = validators[slot], let reason = validator(value) {
            let name = descriptors[slot].name
            throw KnobError(.rejectedByValidator, knob: name, "\(name): \(reason)")
        }
        return value
    }

    /// Validates and applies a batch atomically; returns the changes to announce.
    /// Call with the gate held.
    func commit<Operations: Collection<SlotOperation>>(_ operations: Operations) throws(KnobError) -> [KnobChange] {
        try writer.withLock { (state: inout WriterState) throws(KnobError) -> [KnobChange] in
            var live = state.live
            var shadow = state.shadow
            for operation in operations { try step(operation, live: &live, shadow: &shadow) }
            var changes: [KnobChange] = []
            for operation in operations {
                let i = operation.index
                state.versions[i] += 1
                let action: KnobChange.Action =
                    switch operation {
                    case .set: .set
                    case .setShadow: .setShadow
                    case .clearShadow: .clearShadow
                    case .promote: .promote
                    }
                changes.append(
                    KnobChange(knob: descriptors[i].name, action: action, value: live[i], shadow: shadow[i], version: state.versions[i]))
            }
            state.live = live
            state.shadow = shadow
            state.tableVersion += 1
            publish(KnobSnapshot(live: live, shadow: shadow, version: state.tableVersion), retired: &state.retired)
            return changes
        }
    }

    /// Runs listeners and stream continuations for applied changes; call outside every lock.
    func announce(_ changes: [KnobChange]) {
        let (listeners, streams) = writer.withLock { ($0.listeners, Array($0.streams.values)) }
        for listener in listeners { listener(changes) }
        for change in changes {
            for stream in streams { stream.yield(change) }
        }
    }

    /// Applies a batch on this table alone, atomically.
    func apply(_ operations: [SlotOperation], through writer: KnobWriter? = nil) throws(KnobError) {
        if let first = operations.first { try gate.admit(descriptors[first.index].name, through: writer) }
        let changes = try gate.lock.withLock { (_: inout Void) throws(KnobError) -> [KnobChange] in
            try commit(operations)
        }
        announce(changes)
    }

    private func publish(_ snapshot: KnobSnapshot, retired: inout RetiredSnapshots) {
        let old = current.exchange(Unmanaged.passRetained(snapshot), ordering: .acquiringAndReleasing)
        let now = ContinuousClock.now
        retired.append(old.takeRetainedValue(), at: now)
        // Release snapshots replaced long enough ago that no reader can be between
        // its load and its retain of them.
        retired.release(olderThan: .seconds(1), keeping: 64, now: now)
    }

    // MARK: - Observing

    /// Registers a synchronous callback run after every applied batch with its changes.
    func onChange(_ listener: @escaping @Sendable ([KnobChange]) -> Void) {
        writer.withLock { $0.listeners.append(listener) }
    }

    /// A stream of every change applied to this table (newest 256 kept if the reader lags).
    public func changes() -> AsyncStream<KnobChange> {
        let (stream, continuation) = AsyncStream<KnobChange>.makeStream(bufferingPolicy: .bufferingNewest(256))
        let id = writer.withLock { state -> UInt64 in
            state.nextStream += 1
            state.streams[state.nextStream] = continuation
            return state.nextStream
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.writer.withLock { $0.streams.removeValue(forKey: id) }
        }
        return stream
    }
}

/// Serializes writers across the tables of one registry so a batch spanning
/// pipelines is validated and applied as one step.
final class WriteGate: Sendable {
    let lock = Locked<Void>(())
    /// What the knobs answer to once something takes charge of them (a
    /// control plane): then only a ``KnobWriter`` of this gate changes them.
    let owner = Locked<String?>(nil)

    /// Refuses a write that does not come through `writer` once the knobs have an owner.
    func admit(_ knob: String, through writer: KnobWriter?) throws(KnobError) {
        guard writer?.gate !== self, let owner = owner.withLock({ $0 }) else { return }
        throw KnobError(
            .attached, knob: knob,
            "\(knob): the knobs of this registry are changed only through \(owner) (param.set, shadow.set, ...)")
    }
}

/// A knob's metadata and current values, as the control plane and the observer read them.
public struct ParameterInfo: Sendable, Hashable {
    /// The knob's description, kind and bounds.
    public var descriptor: KnobDescriptor
    /// The live value.
    public var value: Double
    /// The shadow value, if any.
    public var shadow: Double?
    /// The knob's version: +1 per change.
    public var version: UInt64

    /// Metadata and values as read from a table and a snapshot.
    public init(descriptor: KnobDescriptor, value: Double, shadow: Double?, version: UInt64) {
        self.descriptor = descriptor
        self.value = value
        self.shadow = shadow
        self.version = version
    }

    /// The knob's full name.
    public var name: String { descriptor.name }
    /// Smallest accepted value.
    public var minimum: Double { descriptor.minimum }
    /// Largest accepted value.
    public var maximum: Double { descriptor.maximum }
}
