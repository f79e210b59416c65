// MARK: - Writing

extension AuditEntry {
    /// The entry as one line of the audit log (without the line break).
    ///
    /// Keys in sorted order: `action`, `actor`, `args`, `correlation_id`,
    /// `evidence`, `outcome`, `reason`, `result`, `target`, `time`. Optional
    /// fields that are nil (or `.null`) are left out rather than written as
    /// `null`. `time` is RFC 3339 in UTC with milliseconds (see ``RFC3339``).
    /// NaN and infinities in `args`, `evidence` and `result` are written as the
    /// strings `"NaN"`, `"Infinity"`, `"-Infinity"`.
    ///
    /// ```json
    /// {"action":"param.set","actor":"script:shed-retries","args":{"param":"checkout.retry.max_attempts","value":1},"outcome":"applied","reason":"error rate high","target":"checkout.retry.max_attempts","time":"2026-11-23T18:45:00.123Z"}
    /// ```
    public func jsonLine() -> String {
        var writer = JSONWriter(capacity: 512)
        encode(into: &writer)
        return writer.string
    }

    /// The entry as a JSON value, with the fields of its line (for APIs that
    /// embed entries in larger answers).
    public var jsonValue: JSONValue {
        var object: [String: JSONValue] = [
            "action": .string(action), "actor": .string(actor), "args": args, "outcome": .string(outcome.rawValue),
            "time": .string(RFC3339.string(fromUnixSeconds: time)),
        ]
        if let correlationID { object["correlation_id"] = .string(correlationID) }
        if let evidence, evidence != .null { object["evidence"] = evidence }
        if let reason { object["reason"] = .string(reason) }
        if let result, result != .null { object["result"] = result }
        if let target { object["target"] = .string(target) }
        return .object(object)
    }

    /// Appends the entry as one compact JSON object (no line break) to `writer`.
    public func encode(into writer: inout JSONWriter) {
        // The keys are written by hand in their sorted order: the fastest way to
        // a sorted object, and the order is part of the format.
        writer.writeRaw("{\"action\":")
        writer.writeString(action)
        writer.writeRaw(",\"actor\":")
        writer.writeString(actor)
        writer.writeRaw(",\"args\":")
        writer.write(args)
        if let correlationID {
            writer.writeRaw(",\"correlation_id\":")
            writer.writeString(correlationID)
        }
        if let evidence, evidence != .null {
            writer.writeRaw(",\"evidence\":")
            writer.write(evidence)
        }
        writer.writeRaw(",\"outcome\":")
        writer.writeString(outcome.rawValue)
        if let reason {
            writer.writeRaw(",\"reason\":")
            writer.writeString(reason)
        }
        if let result, result != .null {
            writer.writeRaw(",\"result\":")
            writer.write(result)
        }
        if let target {
            writer.writeRaw(",\"target\":")
            writer.writeString(target)
        }
        writer.writeRaw(",\"time\":\"")
        writer.appendBytes { RFC3339.append(unixSeconds: time, to: &$0) }
        writer.writeRaw("\"}")
    }
}

// MARK: - Reading

extension AuditEntry {
    /// Reads one line of the audit log.
    ///
    /// See ``init(jsonObject:)`` for what is accepted.
    public init(jsonLine: String) throws(AuditDecodingError) {
        let value: JSONValue
        do {
            value = try JSONParser().parse(jsonLine)
        } catch {
            throw AuditDecodingError(.malformedJSON, field: nil, "column \(error.column): \(error.message)", jsonError: error)
        }
        try self.init(jsonObject: value)
    }

    /// Reads an entry from a parsed JSON object.
    ///
    /// `time`, `actor`, `action`, `args` and `outcome` are required; `target`,
    /// `reason`, `correlation_id`, `evidence` and `result` are optional, and
    /// `null` counts as absent. Fields this build does not know are ignored, so
    /// newer logs stay readable. Note what does not round-trip:
    /// - `time` keeps milliseconds only;
    /// - NaN and infinities, written as the strings `"NaN"`, `"Infinity"` and
    ///   `"-Infinity"`, come back as those strings (JSON cannot say they were
    ///   numbers);
    /// - a double with an integral value, such as `2.0`, comes back as `.double`;
    ///   an integer `2` as `.int`.
    public init(jsonObject value: JSONValue) throws(AuditDecodingError) {
        guard case .object(let fields) = value else {
            throw AuditDecodingError(.notAnObject, field: nil, "an audit entry is a JSON object, not \(value.typeName)")
        }
        let timeText = try Self.requiredString("time", in: fields)
        guard let time = RFC3339.unixSeconds(from: timeText) else {
            throw AuditDecodingError(.invalidValue, field: "time", "time \"\(timeText)\" is not an RFC 3339 timestamp")
        }
        let outcomeText = try Self.requiredString("outcome", in: fields)
        guard let outcome = AuditOutcome(rawValue: outcomeText) else {
            let known = AuditOutcome.allCases.map(\.rawValue).joined(separator: ", ")
            throw AuditDecodingError(
                .invalidValue, field: "outcome", "outcome \"\(outcomeText)\" is not one of \(known)")
        }
        guard let args = fields["args"] else {
            throw AuditDecodingError(.missingField, field: "args", "field \"args\" is missing")
        }
        self.init(
            time: time,
            actor: try Self.requiredString("actor", in: fields),
            action: try Self.requiredString("action", in: fields),
            target: try Self.optionalString("target", in: fields),
            args: args,
            outcome: outcome,
            reason: try Self.optionalString("reason", in: fields),
            evidence: Self.optionalValue("evidence", in: fields),
            correlationID: try Self.optionalString("correlation_id", in: fields),
            result: Self.optionalValue("result", in: fields))
    }

    private static func requiredString(
        _ name: String, in fields: [String: JSONValue]
    ) throws(AuditDecodingError)
        -> String
    {
        guard let value = fields[name], value != .null else {
            throw AuditDecodingError(.missingField, field: name, "field \"\(name)\" is missing")
        }
        guard case .string(let text) = value else {
            throw AuditDecodingError(.wrongType, field: name, "field \"\(name)\" is \(value.typeName), expected a string")
        }
        return text
    }

    private static func optionalString(
        _ name: String, in fields: [String: JSONValue]
    ) throws(AuditDecodingError)
        -> String?
    {
        guard let value = fields[name], value != .null else { return nil }
        guard case .string(let text) = value else {
            throw AuditDecodingError(.wrongType, field: name, "field \"\(name)\" is \(value.typeName), expected a string")
        }
        return text
    }

    private static func optionalValue(_ name: String, in fields: [String: JSONValue]) -> JSONValue? {
        guard let value = fields[name], value != .null else { return nil }
        return value
    }
}
