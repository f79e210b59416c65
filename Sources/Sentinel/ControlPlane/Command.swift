/// A control-plane command: built-in (`param.set`, `breaker.reset`, ...) or
/// your own, registered with ``ControlPlane/register(_:)``.
///
/// The control plane calls, in order: ``target(_:)`` (for authorization,
/// guards and the audit), ``validate(_:in:)``, then, once authorized and past
/// the guards, ``apply(_:context:in:)``. A command that throws from `apply`
/// is audited as `failed` and must have changed nothing.
///
/// ```swift
/// struct DrainCommand: Command {
///     let name = "checkout.drain"
///     func target(_ arguments: CommandArguments) throws(CommandError) -> String? { "checkout" }
///     func apply(_ arguments: CommandArguments, context: CommandContext, in plane: ControlPlane) async throws -> CommandValue {
///         try await drainer.drain()
///         return .null
///     }
/// }
/// ```
public protocol Command: Sendable {
    /// The dotted name scripts and operators use: `param.set`, `checkout.drain`.
    var name: String { get }
    /// True when the command only reads (queries are audited only when they fail).
    var isQuery: Bool { get }
    /// True when the command changes a knob's live value named by ``target(_:)``:
    /// the guards (bounds, steps, minimum interval) then apply to the value
    /// given by ``proposedValue(_:)``.
    var changesParameter: Bool { get }
    /// How long `apply` may take before it is abandoned and audited as failed;
    /// nil for no limit (built-ins finish at once).
    var timeout: Duration? { get }
    /// What the command acts on: a parameter, a pipeline, a script; nil for none.
    func target(_ arguments: CommandArguments) throws(CommandError) -> String?
    /// The new live value, for commands that change a parameter.
    func proposedValue(_ arguments: CommandArguments, in plane: ControlPlane) throws(CommandError) -> Double?
    /// Checks the arguments without changing anything (also used by `sentinel check`).
    func validate(_ arguments: CommandArguments, in plane: ControlPlane) throws(CommandError)
    /// Makes the change and returns a result (`.null` when there is nothing to say).
    func apply(_ arguments: CommandArguments, context: CommandContext, in plane: ControlPlane) async throws -> CommandValue
}

extension Command {
    public var isQuery: Bool { false }
    public var changesParameter: Bool { false }
    public var timeout: Duration? { nil }
    public func proposedValue(_ arguments: CommandArguments, in plane: ControlPlane) throws(CommandError) -> Double? {
        nil
    }
    public func validate(_ arguments: CommandArguments, in plane: ControlPlane) throws(CommandError) {
        _ = try target(arguments)
    }
}

extension Command {
    /// Checks the shape of a `value` argument without a registry (for `sentinel check`).
    func proposedValueShape(_ arguments: CommandArguments) throws(CommandError) -> Double? {
        guard arguments["value"] != nil else { return nil }
        return try arguments.numberOrDuration("value")
    }
}
