import Yams

extension YAMLValue {
    /// The node as a command value: mappings become objects, lists arrays,
    /// scalars whole numbers, numbers, booleans or strings (in that order of
    /// preference), so a scenario's `args` reach a command as typed values.
    public func jsonValue() throws(ConfigurationError) -> JSONValue {
        switch node {
        case .mapping:
            var object: [String: JSONValue] = [:]
            for (key, value) in try mapping() { object[key] = try value.jsonValue() }
            return .object(object)
        case .sequence:
            return .array(try sequence().map { (element) throws(ConfigurationError) in try element.jsonValue() })
        case .scalar(let scalar):
            if isNull { return .null }
            if scalar.style == .plain {
                if let integer = node.int { return .int(Int64(integer)) }
                if let number = node.float, number.isFinite { return .double(number) }
                if let flag = node.bool { return .bool(flag) }
            }
            return .string(scalar.string)
        case .alias:
            throw error("aliases are not supported here")
        }
    }
}
