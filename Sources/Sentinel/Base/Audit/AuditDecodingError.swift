/// Why a JSON line or object is not an ``AuditEntry``.
public struct AuditDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of mistake.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private let raw: String
        private init(_ raw: String) { self.raw = raw }
        /// The line is not JSON; ``AuditDecodingError/jsonError`` says where.
        public static let malformedJSON = Code("malformed_json")
        /// The JSON is not an object.
        public static let notAnObject = Code("not_an_object")
        /// A required field (`time`, `actor`, `action`, `args`, `outcome`) is absent.
        public static let missingField = Code("missing_field")
        /// A field has the wrong JSON type.
        public static let wrongType = Code("wrong_type")
        /// A field has the right type but a value that is not allowed
        /// (an unknown outcome, a time that is not RFC 3339).
        public static let invalidValue = Code("invalid_value")
        /// The code as a snake_case string.
        public var description: String { raw }
    }

    /// The kind of mistake.
    public var code: Code
    /// The field at fault, when one is.
    public var field: String?
    /// What was wrong; for JSON errors, with the column.
    public var message: String
    /// The parser's error, for ``Code/malformedJSON``.
    public var jsonError: JSONParseError?

    /// Makes an error.
    public init(_ code: Code, field: String?, _ message: String, jsonError: JSONParseError? = nil) {
        self.code = code
        self.field = field
        self.message = message
        self.jsonError = jsonError
    }

    /// The message.
    public var description: String { message }
}
