extension PersistedState {
    /// The state as a JSON-like value, as the state file holds it:
    ///
    /// ```json
    /// {
    ///   "extensions": {},
    ///   "frozen": false,
    ///   "parameters": {
    ///     "checkout.timeout.duration": {
    ///       "shadow": 0.25,
    ///       "value": 0.5
    ///     }
    ///   },
    ///   "saved_at": 1795459500.123,
    ///   "trials": {},
    ///   "version": 1
    /// }
    /// ```
    public var jsonValue: JSONValue {
        var knobs: [String: JSONValue] = [:]
        for (name, parameter) in parameters {
            var fields: [String: JSONValue] = ["value": .double(parameter.value)]
            if let shadow = parameter.shadow { fields["shadow"] = .double(shadow) }
            knobs[name] = .object(fields)
        }
        return [
            "version": .int(Int64(version)),
            "saved_at": .double(savedAt),
            "parameters": .object(knobs),
            "frozen": .bool(frozen),
            "trials": trials,
            "extensions": .object(extensions),
        ]
    }

    /// Reads a state from its JSON-like value.
    ///
    /// Strict: every field is required but `extensions`, unknown fields are
    /// errors (a misspelt field must not be silently ignored), and the version
    /// must be ``currentVersion``. Numbers may be written as integers or
    /// doubles; the strings `"NaN"`, `"Infinity"`, `"-Infinity"` (how NaN and
    /// infinities are written) are read back as those numbers.
    ///
    /// - Throws: a ``StateFileError`` without a path; ``StateFile`` adds it.
    public init(jsonValue value: JSONValue) throws(StateFileError) {
        guard case .object(let fields) = value else {
            throw Self.invalid("the top level is \(value.typeName), expected an object")
        }
        // The version first: a newer file may have any shape.
        guard let versionValue = fields["version"] else { throw Self.invalid("field \"version\" is missing") }
        guard case .int(let version) = versionValue else {
            throw Self.invalid("field \"version\" is \(versionValue.typeName), expected an integer")
        }
        if version > Int64(Self.currentVersion) {
            throw StateFileError(
                .versionTooNew, path: "",
                "version \(version) is newer than this build understands (\(Self.currentVersion))")
        }
        if version < 1 {
            throw StateFileError(.unsupportedVersion, path: "", "version \(version) is not a valid state file version")
        }
        let known: Set<String> = ["version", "saved_at", "parameters", "frozen", "trials", "extensions"]
        if let unknown = fields.keys.filter({ !known.contains($0) }).sorted().first {
            throw Self.invalid("unknown field \"\(unknown)\"")
        }
        let savedAt = try Self.number(fields["saved_at"], "saved_at")
        guard let parametersValue = fields["parameters"] else { throw Self.invalid("field \"parameters\" is missing") }
        guard case .object(let knobs) = parametersValue else {
            throw Self.invalid("field \"parameters\" is \(parametersValue.typeName), expected an object")
        }
        var parameters: [String: PersistedParameter] = [:]
        for (name, knob) in knobs {
            parameters[name] = try Self.parameter(knob, name: name)
        }
        guard let frozenValue = fields["frozen"] else { throw Self.invalid("field \"frozen\" is missing") }
        guard case .bool(let frozen) = frozenValue else {
            throw Self.invalid("field \"frozen\" is \(frozenValue.typeName), expected true or false")
        }
        guard let trials = fields["trials"] else { throw Self.invalid("field \"trials\" is missing") }
        var extensions: [String: JSONValue] = [:]
        if let extensionsValue = fields["extensions"] {
            guard case .object(let members) = extensionsValue else {
                throw Self.invalid("field \"extensions\" is \(extensionsValue.typeName), expected an object")
            }
            extensions = members
        }
        self.init(
            version: Int(version), savedAt: savedAt, parameters: parameters, frozen: frozen, trials: trials,
            extensions: extensions)
    }

    private static func parameter(_ value: JSONValue, name: String) throws(StateFileError) -> PersistedParameter {
        guard case .object(let fields) = value else {
            throw invalid("parameter \"\(name)\" is \(value.typeName), expected an object with \"value\"")
        }
        if let unknown = fields.keys.filter({ $0 != "value" && $0 != "shadow" }).sorted().first {
            throw invalid("parameter \"\(name)\": unknown field \"\(unknown)\"")
        }
        let live = try number(fields["value"], "parameters.\(name).value")
        var shadow: Double?
        if let shadowValue = fields["shadow"], shadowValue != .null {
            shadow = try number(shadowValue, "parameters.\(name).shadow")
        }
        return PersistedParameter(value: live, shadow: shadow)
    }

    private static func number(_ value: JSONValue?, _ field: String) throws(StateFileError) -> Double {
        switch value {
        case .int(let integer): return Double(integer)
        case .double(let number): return number
        case .string("NaN"): return .nan
        case .string("Infinity"): return .infinity
        case .string("-Infinity"): return -.infinity
        case nil: throw invalid("field \"\(field)\" is missing")
        case let other?: throw invalid("field \"\(field)\" is \(other.typeName), expected a number")
        }
    }

    private static func invalid(_ message: String) -> StateFileError {
        StateFileError(.invalidContent, path: "", message)
    }
}
