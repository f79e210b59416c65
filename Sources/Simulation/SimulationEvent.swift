import Sentinel

/// One line of a simulation's output: what happened at virtual time `t`.
///
/// `type` is one of `start`, `script`, `log`, `decision`, `command`, `trial`,
/// `alert`, `event`, `stats`, `error`, `summary` (see `docs/scenarios.md`);
/// the other fields depend on it.
public struct SimulationEvent: Sendable {
    public var type: String
    /// Virtual seconds since the start.
    public var t: Double
    public var fields: [String: JSONValue]

    public init(type: String, t: Double, fields: [String: JSONValue]) {
        self.type = type
        self.t = t
        self.fields = fields
    }

    /// The JSON Lines form: one object, keys sorted, `type` and `t` included.
    public var json: String {
        var object = fields
        object["type"] = .string(type)
        object["t"] = .double(t)
        return JSONValue.object(object).jsonString()
    }

    /// One field, or nil.
    public subscript(_ key: String) -> JSONValue? { fields[key] }
}
