/// The right to change the knobs of a registry that a control plane has
/// taken charge of (``ParameterRegistry/attach(owner:)``): once attached, a
/// registry's knobs change only through a writer, so the one who attached
/// it decides what passes (guards, the freeze, the audit).
///
/// ```swift
/// let writer = registry.attach(owner: "the control plane")
/// try writer.apply([.set("checkout.retry.max_attempts", 2)])
/// try registry.set("checkout.retry.max_attempts", 3)   // throws: attached
/// ```
public final class KnobWriter: Sendable {
    let gate: WriteGate
    /// The registry whose knobs this writer changes.
    public let registry: ParameterRegistry

    init(gate: WriteGate, registry: ParameterRegistry) {
        self.gate = gate
        self.registry = registry
    }

    /// Applies one operation (the common case, without a batch).
    public func apply(_ operation: KnobOperation) throws(KnobError) {
        try registry.apply(one: operation, through: self)
    }

    /// Applies the operations as one step (see ``ParameterRegistry/apply(_:)``).
    public func apply(_ operations: [KnobOperation]) throws(KnobError) {
        try registry.apply(operations, through: self)
    }
}
