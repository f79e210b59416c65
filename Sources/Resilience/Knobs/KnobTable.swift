import Synchronization

/// The knobs of one pipeline: lock-free consistent reads, serialized atomic writes.
///
/// Values live in two copies, each guarded by its own sequence number (a
/// double-buffered seqlock). A writer fills the copy readers are not using and
/// then flips `current`, so a reader never waits for a writer, even one that
/// was preempted mid-write: it retries only if two whole batches land during
/// its few nanoseconds of reading.
public final class KnobTable: @unchecked Sendable {
    // @unchecked: the raw atomic buffers are only touched through atomic
    // operations; writer-side state is behind `writer` and the shared gate.

    /// Largest number of knobs one table (one pipeline) holds.
    public static let capacity = 32

    /// The knobs, by slot.
    public let descriptors: [KnobDescriptor]
    private let validators: [(@Sendable (Double) -> String?)?]
    private let count: Int

    // Per copy: `capacity` live values, `capacity` shadow values, mask, version.
    private static let stride = 2 * capacity + 2
    private let data: UnsafeMutablePointer<Atomic<UInt64>>
    private let sequences: UnsafeMutablePointer<Atomic<UInt64>>
    private let current = Atomic<Int>(0)

    let gate: WriteGate

    private struct WriterState {
        var live: [Double]
        var shadow: [Double?]
        var versions: [UInt64]
        var tableVersion: UInt64 = 0
        var listeners: [@Sendable ([KnobChange]) -> Void] = []
        var streams: [UInt64: AsyncStream<KnobChange>.Continuation] = [:]
        var nextStream: UInt64 = 0
    }

    private let writer: Mutex<WriterState>

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
        self.count = descriptors.count
        self.gate = gate
        data = .allocate(capacity: 2 * Self.stride)
        for i in 0..<(2 * Self.stride) { (data + i).initialize(to: Atomic(0)) }
        sequences = .allocate(capacity: 2)
        sequences.initialize(to: Atomic(0))
        (sequences + 1).initialize(to: Atomic(0))
        let defaults = descriptors.map(\.defaultValue)
        writer = Mutex(WriterState(
            live: defaults,
            shadow: Array(repeating: nil, count: descriptors.count),
            versions: Array(repeating: 0, count: descriptors.count)))
        for copy in 0..<2 { fill(copy: copy, live: defaults, shadow: Array(repeating: nil, count: count), version: 0) }
    }

    deinit {
        data.deinitialize(count: 2 * Self.stride)
        data.deallocate()
        sequences.deinitialize(count: 2)
        sequences.deallocate()
    }

    // MARK: - Reading

    /// Reads every knob as one consistent snapshot, without a lock.
    @inline(__always)
    public func read() -> KnobSnapshot {
        while true {
            let copy = current.load(ordering: .acquiring)
            let sequence = sequences[copy].load(ordering: .acquiring)
            if sequence & 1 == 0 {
                let base = data + copy * Self.stride
                var live = SIMD32<Double>()
                var shadow = SIMD32<Double>()
                for i in 0..<count {
                    live[i] = Double(bitPattern: base[i].load(ordering: .relaxed))
                }
                let mask = UInt32(truncatingIfNeeded: base[2 * Self.capacity].load(ordering: .relaxed))
                if mask != 0 {
                    for i in 0..<count {
                        shadow[i] = Double(bitPattern: base[Self.capacity + i].load(ordering: .relaxed))
                    }
                }
                let version = base[2 * Self.capacity + 1].load(ordering: .relaxed)
                atomicMemoryFence(ordering: .acquiring)
                if sequences[copy].load(ordering: .relaxed) == sequence {
                    return KnobSnapshot(live: live, shadow: shadow, shadowMask: mask, version: version)
                }
            }
        }
    }

    /// The live value of one slot (a single atomic load).
    @inline(__always)
    public func liveValue(_ index: Int) -> Double {
        let copy = current.load(ordering: .acquiring)
        return Double(bitPattern: data[copy * Self.stride + index].load(ordering: .relaxed))
    }

    /// The index of the knob with this full name.
    public func index(of name: String) -> Int? {
        descriptors.firstIndex { $0.name == name }
    }

    /// Live value, shadow value and version of every knob, read under the writer lock
    /// (control-plane use; the request path uses ``read()``).
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
        let descriptor = descriptors[i]
        switch operation {
        case .set(_, let value):
            live[i] = try checked(value, slot: i)
        case .setShadow(_, let value):
            guard descriptor.shadowable else {
                throw KnobError(.notShadowable, knob: descriptor.name,
                                "\(descriptor.name): traffic split weights cannot be shadowed; a call goes to one variant only")
            }
            shadow[i] = try checked(value, slot: i)
        case .clearShadow:
            shadow[i] = nil
        case .promote:
            guard let value = shadow[i] else {
                throw KnobError(.noShadow, knob: descriptor.name, "\(descriptor.name): has no shadow value to promote")
            }
            live[i] = value
            shadow[i] = nil
        }
    }

    private func checked(_ value: Double, slot: Int) throws(KnobError) -> Double {
        let descriptor = descriptors[slot]
        let value = try descriptor.validate(value)
        if let validator = validators[slot], let reason = validator(value) {
            throw KnobError(.rejectedByValidator, knob: descriptor.name, "\(descriptor.name): \(reason)")
        }
        return value
    }

    /// Validates and applies a batch atomically; returns the changes to announce.
    /// Call with the gate held.
    func commit(_ operations: [SlotOperation]) throws(KnobError) -> [KnobChange] {
        try writer.withLock { (state: inout WriterState) throws(KnobError) -> [KnobChange] in
            var live = state.live
            var shadow = state.shadow
            for operation in operations { try step(operation, live: &live, shadow: &shadow) }
            var changes: [KnobChange] = []
            for operation in operations {
                let i = operation.index
                state.versions[i] += 1
                let action: KnobChange.Action = switch operation {
                case .set: .set
                case .setShadow: .setShadow
                case .clearShadow: .clearShadow
                case .promote: .promote
                }
                changes.append(KnobChange(knob: descriptors[i].name, action: action, value: live[i], shadow: shadow[i], version: state.versions[i]))
            }
            state.live = live
            state.shadow = shadow
            state.tableVersion += 1
            let next = 1 - current.load(ordering: .relaxed)
            fill(copy: next, live: live, shadow: shadow, version: state.tableVersion)
            current.store(next, ordering: .releasing)
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
    func apply(_ operations: [SlotOperation]) throws(KnobError) {
        let changes = try gate.lock.withLock { (_: inout Void) throws(KnobError) -> [KnobChange] in
            try commit(operations)
        }
        announce(changes)
    }

    private func fill(copy: Int, live: [Double], shadow: [Double?], version: UInt64) {
        let sequence = sequences[copy].load(ordering: .relaxed)
        sequences[copy].store(sequence &+ 1, ordering: .relaxed)
        atomicMemoryFence(ordering: .releasing)
        let base = data + copy * Self.stride
        var mask: UInt64 = 0
        for i in 0..<count {
            base[i].store(live[i].bitPattern, ordering: .relaxed)
            if let value = shadow[i] {
                mask |= 1 << UInt64(i)
                base[Self.capacity + i].store(value.bitPattern, ordering: .relaxed)
            }
        }
        base[2 * Self.capacity].store(mask, ordering: .relaxed)
        base[2 * Self.capacity + 1].store(version, ordering: .relaxed)
        sequences[copy].store(sequence &+ 2, ordering: .releasing)
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
    let lock = Mutex<Void>(())
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

    /// The knob's full name.
    public var name: String { descriptor.name }
    /// Smallest accepted value.
    public var minimum: Double { descriptor.minimum }
    /// Largest accepted value.
    public var maximum: Double { descriptor.maximum }
}
