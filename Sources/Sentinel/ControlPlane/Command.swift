/// A control-plane command: built-in (`param.set`, `breaker.reset`, ...) or
/// your own, registered with ``ControlPlane/register(_:)``.
///
/// Arguments are read **once**, where the command enters (from Lua, JSON or
/// YAML alike): ``decode(_:)`` turns the raw values into the command's
/// ``Arguments`` (types, names and shapes, no lookups; errors name the
/// argument), and ``prepare(_:in:)`` checks them against the plane's current
/// state once (a knob exists, a value lies within its bounds), keeping what
/// it looked up. Authorization, the guards (``target(_:)``,
/// ``proposedValue(_:in:)``), ``apply(_:context:in:)`` and the audit then
/// work on the prepared arguments. A command that throws from `apply` is
/// audited as `failed` and must have changed nothing.
///
/// A command whose ``Arguments`` is ``CommandArguments`` (the default) reads
/// its values with `CommandArguments`' typed accessors:
///
/// ```swift
/// struct DrainCommand: Command {
///     let name = "checkout.drain"
///     func target(_ arguments: CommandArguments) throws(CommandError) -> String? { "checkout" }
///     func apply(_ arguments: CommandArguments, context: CommandContext, in plane: ControlPlane) async throws -> JSONValue {
///         try await drainer.drain(within: arguments.number("within", in: .duration))
///         return .null
///     }
/// }
/// ```
public protocol Command: Sendable {
    /// The arguments once decoded; ``CommandArguments`` unless the command reads its own type.
    associatedtype Arguments: Sendable = CommandArguments
    /// The dotted name scripts and operators use: `param.set`, `checkout.drain`.
    var name: String { get }
    /// True when the command only reads (queries are audited only when they fail).
    var isQuery: Bool { get }
    /// True when the command changes a knob's live value named by ``target(_:)``:
    /// the guards (bounds, steps, minimum interval) then apply to the value
    /// given by ``proposedValue(_:in:)``.
    var changesParameter: Bool { get }
    /// How long `apply` may take before it is abandoned and audited as failed;
    /// nil for no limit (built-ins finish at once).
    var timeout: Duration? { get }
    /// Reads the raw values into ``Arguments``: types, names, shapes; no
    /// lookups (`sentinel check` stops here, without a plane to look in).
    func decode(_ arguments: CommandArguments) throws(CommandError) -> Arguments
    /// What the command acts on: a parameter, a pipeline, a script; nil for none.
    func target(_ arguments: Arguments) throws(CommandError) -> String?
    /// Checks the arguments against the plane once and returns them with what
    /// was looked up (by default: ``validate(_:in:)``, arguments unchanged).
    func prepare(_ arguments: Arguments, in plane: ControlPlane) throws(CommandError) -> Arguments
    /// Checks the arguments against the plane without changing anything.
    func validate(_ arguments: Arguments, in plane: ControlPlane) throws(CommandError)
    /// The new live value, for commands that change a parameter.
    func proposedValue(_ arguments: Arguments, in plane: ControlPlane) throws(CommandError) -> Double?
    /// Makes the change and returns a result (`.null` when there is nothing to say).
    func apply(_ arguments: Arguments, context: CommandContext, in plane: ControlPlane) async throws -> JSONValue
}

extension Command {
    public var isQuery: Bool { false }
    public var changesParameter: Bool { false }
    public var timeout: Duration? { nil }
    public func proposedValue(_ arguments: Arguments, in plane: ControlPlane) throws(CommandError) -> Double? {
        nil
    }
    public func validate(_ arguments: Arguments, in plane: ControlPlane) throws(CommandError) {
        _ = try target(arguments)
    }
    public func prepare(_ arguments: Arguments, in plane: ControlPlane) throws(CommandError) -> Arguments {
        try validate(arguments, in: plane)
        return arguments
    }
}

extension Command where Arguments == CommandArguments {
    /// The raw values, read later with ``CommandArguments``' accessors.
    public func decode(_ arguments: CommandArguments) throws(CommandError) -> CommandArguments { arguments }
}
