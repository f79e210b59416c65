/// Why a text is not the JSON ``JSONParser`` accepts, and where.
///
/// The description reads `line 3, column 14: expected ',' or '}' after a
/// member of an object, found 'x'`. Lines and columns count from 1; a column
/// counts characters (Unicode scalars), not bytes.
public struct JSONParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of mistake.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private let raw: String
        private init(_ raw: String) { self.raw = raw }
        /// The input ends before the value is complete (a truncated file).
        public static let unexpectedEnd = Code("unexpected_end")
        /// A character that cannot start or continue a value here.
        public static let unexpectedCharacter = Code("unexpected_character")
        /// A number that does not follow JSON's grammar (`01`, `1.`, `.5`, `-`).
        public static let invalidNumber = Code("invalid_number")
        /// A number too large for a double (`1e999`).
        public static let numberOutOfRange = Code("number_out_of_range")
        /// A backslash escape JSON does not have, or a lone UTF-16 surrogate.
        public static let invalidEscape = Code("invalid_escape")
        /// A raw control character (below U+0020) inside a string.
        public static let controlCharacterInString = Code("control_character_in_string")
        /// Bytes that are not valid UTF-8.
        public static let invalidUTF8 = Code("invalid_utf8")
        /// An object names the same key twice.
        public static let duplicateKey = Code("duplicate_key")
        /// Arrays and objects nested deeper than the parser allows.
        public static let tooDeep = Code("too_deep")
        /// More text after the value.
        public static let trailingContent = Code("trailing_content")
        /// The code as a snake_case string.
        public var description: String { raw }
    }

    /// The kind of mistake.
    public var code: Code
    /// What was wrong, without the position.
    public var message: String
    /// The line of the mistake, from 1.
    public var line: Int
    /// The column of the mistake in characters, from 1.
    public var column: Int
    /// The byte offset of the mistake from the start of the input, from 0.
    public var offset: Int

    /// Makes an error.
    public init(_ code: Code, _ message: String, line: Int, column: Int, offset: Int) {
        self.code = code
        self.message = message
        self.line = line
        self.column = column
        self.offset = offset
    }

    /// `line L, column C: message`.
    public var description: String { "line \(line), column \(column): \(message)" }
}
