/// Finds every knob by its name `<pipeline>.<policy>.<knob>` and changes knobs
/// by name, one at a time or in atomic batches.
///
/// Pipelines register their knobs here when they are made. Reads and writes by
/// name take a lock (control-plane use); the request path never does.
///
/// ```swift
/// let registry = ParameterRegistry()
/// let checkout = try Pipeline("checkout", registry: registry) { Retry(maxAttempts: 3) }
/// try registry.set("checkout.retry.max_attempts", 2)
/// try registry.apply([.promote("checkout.timeout.duration"), .promote("checkout.retry.max_attempts")])
/// ```
public final class ParameterRegistry: Sendable {
    private struct Entry {
        var table: KnobTable
        var index: Int
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var pipelines: [String: Pipeline] = [:]
        var order: [String] = []
        var streams: [UInt64: AsyncStream<KnobChange>.Continuation] = [:]
        var nextStream: UInt64 = 0
    }

    private let state = Locked(State())
    let gate = WriteGate()

    /// A registry shared by pipelines made without an explicit one.
    public static let shared = ParameterRegistry()

    /// Makes an empty registry.
    public init() {}

    // MARK: - Registration

    func register(_ pipeline: Pipeline) throws(KnobError) {
        let table = pipeline.knobs
        try state.withLock { (state: inout State) throws(KnobError) in
            if state.pipelines[pipeline.name] != nil {
                throw KnobError(
                    .duplicateName, knob: pipeline.name,
                    "pipeline \"\(pipeline.name)\" is already registered")
            }
            for (i, descriptor) in table.descriptors.enumerated() where state.entries[descriptor.name] != nil {
                _ = i
                throw KnobError(.duplicateName, knob: descriptor.name, "\(descriptor.name): a knob with this name already exists")
            }
            for (i, descriptor) in table.descriptors.enumerated() {
                state.entries[descriptor.name] = Entry(table: table, index: i)
            }
            state.pipelines[pipeline.name] = pipeline
            state.order.append(pipeline.name)
        }
        table.onChange { [weak self] changes in self?.forward(changes) }
    }

    /// Removes a pipeline and its knobs (for example when a workload ends).
    public func unregister(pipeline name: String) {
        state.withLock { state in
            guard let pipeline = state.pipelines.removeValue(forKey: name) else { return }
            for descriptor in pipeline.knobs.descriptors { state.entries.removeValue(forKey: descriptor.name) }
            state.order.removeAll { $0 == name }
        }
    }

    private func forward(_ changes: [KnobChange]) {
        let streams = state.withLock { Array($0.streams.values) }
        for change in changes { for stream in streams { stream.yield(change) } }
    }

    // MARK: - Lookup

    /// The registered pipelines, in registration order.
    public var pipelines: [Pipeline] {
        state.withLock { state in state.order.compactMap { state.pipelines[$0] } }
    }

    /// The pipeline names in registration order and the pipelines by name, as
    /// one read (copy-on-write: O(1), for observers that snapshot often).
    public var directory: (names: [String], pipelines: [String: Pipeline]) {
        state.withLock { ($0.order, $0.pipelines) }
    }

    /// The pipeline with this name.
    public func pipeline(named name: String) -> Pipeline? {
        state.withLock { $0.pipelines[name] }
    }

    /// Every knob's metadata and values, sorted by name.
    public func parameters() -> [ParameterInfo] {
        let tables = state.withLock { state in state.order.compactMap { state.pipelines[$0]?.knobs } }
        return tables.flatMap { $0.entries() }.sorted { $0.name < $1.name }
    }

    /// One knob's metadata and values.
    public func parameter(_ name: String) throws(KnobError) -> ParameterInfo {
        let entry = try lookup(name)
        return entry.table.entry(entry.index)
    }

    /// The live value of a knob.
    public func value(_ name: String) throws(KnobError) -> Double {
        let entry = try lookup(name)
        return entry.table.liveValue(entry.index)
    }

    /// A typed handle to a knob.
    public func adaptive<Value: KnobValue>(_ name: String, as type: Value.Type = Value.self) throws(KnobError) -> Adaptive<Value> {
        let entry = try lookup(name)
        return Adaptive(table: entry.table, index: entry.index)
    }

    private func lookup(_ name: String) throws(KnobError) -> Entry {
        // Every registered name is well formed, so the form is checked only to
        // say why a name was not found (this runs on every command).
        if let entry = state.withLock({ $0.entries[name] }) { return entry }
        guard Self.isWellFormed(name) else {
            throw KnobError(
                .malformedName, knob: name,
                "\"\(name)\" is not a knob name (expected <pipeline>.<policy>.<knob>)")
        }
        throw KnobError(.unknownKnob, knob: name, "\(name): no such knob")
    }

    /// Whether `name` has the form `<pipeline>.<policy>.<knob>` (three non-empty
    /// parts of letters, digits, `_` and `-`).
    public static func isWellFormed(_ name: String) -> Bool {
        // Bytes, not Characters: this runs on every command, and grapheme
        // breaking would cost more than the rest of the check.
        var parts = 1
        var partLength = 0
        for byte in name.utf8 {
            switch byte {
            case UInt8(ascii: "."):
                guard partLength > 0 else { return false }
                parts += 1
                partLength = 0
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
                partLength += 1
            default:
                return false
            }
        }
        return parts == 3 && partLength > 0
    }

    // MARK: - Changing

    /// Sets a knob's live value.
    public func set(_ name: String, _ value: Double) throws(KnobError) { try apply([.set(name, value)]) }

    /// Sets a knob's live value from text: a number, or for duration knobs a
    /// duration such as `"250ms"` (see ``DurationParser``).
    public func set(_ name: String, parsing text: String) throws(KnobError) {
        try apply([.set(name, try number(for: name, from: text))])
    }

    /// Sets a knob's shadow value from text, as ``set(_:parsing:)`` reads it.
    public func setShadow(_ name: String, parsing text: String) throws(KnobError) {
        try apply([.setShadow(name, try number(for: name, from: text))])
    }

    /// The number `text` stands for as a value of knob `name`.
    public func number(for name: String, from text: String) throws(KnobError) -> Double {
        let info = try parameter(name)
        if info.descriptor.kind == .duration { return try DurationParser.seconds(from: text, knob: name) }
        guard let value = Double(text.filter { !$0.isWhitespace }) else {
            throw KnobError(.invalidDuration, knob: name, "\(name): \"\(text)\" is not a number")
        }
        return value
    }

    /// Sets a knob's shadow value.
    public func setShadow(_ name: String, _ value: Double) throws(KnobError) { try apply([.setShadow(name, value)]) }

    /// Removes a knob's shadow value.
    public func clearShadow(_ name: String) throws(KnobError) { try apply([.clearShadow(name)]) }

    /// Makes a knob's shadow value live.
    public func promote(_ name: String) throws(KnobError) { try apply([.promote(name)]) }

    /// Applies several changes as one step: every call made afterwards sees all
    /// of them, every call made before sees none; if any is refused, none is applied.
    ///
    /// - Throws: ``KnobError`` with code `attached` once the registry is
    ///   attached to a control plane (see ``attach(owner:)``).
    public func apply(_ operations: [KnobOperation]) throws(KnobError) {
        try apply(operations, through: nil)
    }

    // MARK: - Ownership

    /// Puts the knobs in the charge of `owner` (a control plane): from now on
    /// they change only through the returned writer, and this registry's own
    /// setters (``set(_:_:)``, ``apply(_:)``, ...) and every ``Adaptive``
    /// handle's setters throw ``KnobError`` with code `attached`. Reads are
    /// unaffected. Every attach returns a writer of its own; `owner` names the
    /// first one in refusals.
    public func attach(owner: String) -> KnobWriter {
        gate.owner.withLock { current in if current == nil { current = owner } }
        return KnobWriter(gate: gate, registry: self)
    }

    /// What the registry is attached to, if anything.
    public var owner: String? { gate.owner.withLock { $0 } }

    func apply(_ operations: [KnobOperation], through writer: KnobWriter?) throws(KnobError) {
        if let first = operations.first { try gate.admit(first.knob, through: writer) }
        if operations.count == 1 {
            try apply(one: operations[0], through: writer)
            return
        }
        var groups: [ObjectIdentifier: (KnobTable, [KnobTable.SlotOperation])] = [:]
        var order: [ObjectIdentifier] = []
        for operation in operations {
            let entry = try lookup(operation.knob)
            let slot = Self.slot(operation, entry.index)
            let id = ObjectIdentifier(entry.table)
            if groups[id] == nil { order.append(id); groups[id] = (entry.table, []) }
            groups[id]!.1.append(slot)
        }
        let changes = try gate.lock.withLock { (_: inout Void) throws(KnobError) -> [(KnobTable, [KnobChange])] in
            for id in order { try groups[id]!.0.validate(groups[id]!.1) }
            var changes: [(KnobTable, [KnobChange])] = []
            for id in order {
                let (table, slots) = groups[id]!
                changes.append((table, try table.commit(slots)))
            }
            return changes
        }
        for (table, list) in changes { table.announce(list) }
    }

    /// The common case (one command, one knob): no grouping by table, no arrays.
    func apply(one operation: KnobOperation, through writer: KnobWriter?) throws(KnobError) {
        try gate.admit(operation.knob, through: writer)
        let entry = try lookup(operation.knob)
        let slot = CollectionOfOne(Self.slot(operation, entry.index))
        // One table: commit checks the operation on copies before it stores it.
        let changes = try gate.lock.withLock { (_: inout Void) throws(KnobError) -> [KnobChange] in
            try entry.table.commit(slot)
        }
        entry.table.announce(changes)
    }

    private static func slot(_ operation: KnobOperation, _ index: Int) -> KnobTable.SlotOperation {
        switch operation {
        case .set(_, let value): .set(index, value)
        case .setShadow(_, let value): .setShadow(index, value)
        case .clearShadow: .clearShadow(index)
        case .promote: .promote(index)
        }
    }

    /// Every change to any registered knob, as applied (newest 1024 kept if the reader lags).
    public func changes() -> AsyncStream<KnobChange> {
        let (stream, continuation) = AsyncStream<KnobChange>.makeStream(bufferingPolicy: .bufferingNewest(1024))
        let id = state.withLock { state -> UInt64 in
            state.nextStream += 1
            state.streams[state.nextStream] = continuation
            return state.nextStream
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.streams.removeValue(forKey: id) }
        }
        return stream
    }
}
