extension JSONValue {
    /// The value as JSON text: keys sorted bytewise, NaN and infinities as the
    /// strings `"NaN"`, `"Infinity"`, `"-Infinity"`. See ``JSONWriter``.
    ///
    /// ```swift
    /// let args: JSONValue = ["value": 0.25, "param": "checkout.timeout.duration"]
    /// args.jsonString()   // {"param":"checkout.timeout.duration","value":0.25}
    /// ```
    public func jsonString(style: JSONWriter.Style = .compact) -> String {
        var writer = JSONWriter(style: style)
        writer.write(self)
        return writer.string
    }

    /// Parses JSON text strictly (see ``JSONParser``).
    ///
    /// Numbers come back as `.int` when written without fraction or exponent
    /// and within `Int64`, `.double` otherwise. The strings `"NaN"`,
    /// `"Infinity"` and `"-Infinity"` stay strings.
    public init(json text: String) throws(JSONParseError) {
        self = try JSONParser().parse(text)
    }
}
