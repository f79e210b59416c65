/// A strict JSON parser (RFC 8259) that reads text into a ``JSONValue``.
///
/// Strict means: no comments, no trailing commas, no `NaN` or `Infinity`
/// literals, no leading zeros, no raw control characters in strings, valid
/// UTF-8 only, no lone UTF-16 surrogates in `\u` escapes, no duplicate keys,
/// nothing after the value but whitespace. A leading UTF-8 byte order mark is
/// skipped (RFC 8259 §8.1 allows it; some editors add one).
///
/// Numbers: an integer written without fraction or exponent becomes `.int`
/// when it fits in `Int64`, and `.double` otherwise; every other number becomes
/// `.double`. The strings `"NaN"`, `"Infinity"` and `"-Infinity"` that
/// ``JSONWriter`` writes for numbers JSON cannot hold stay strings: the parser
/// cannot know whether a string was a number once. Readers that expect a
/// number where such a string may appear convert it themselves.
///
/// Errors name the line and column:
///
/// ```swift
/// do {
///     _ = try JSONParser().parse("{\"a\": 1,}")
/// } catch {
///     print(error)   // line 1, column 9: expected a string key, found '}'
/// }
/// ```
public struct JSONParser: Sendable {
    /// The nesting depth accepted by default.
    public static let defaultMaximumDepth = 256

    /// How deeply arrays and objects may nest; deeper input is an error rather
    /// than a stack overflow.
    public var maximumDepth: Int

    /// Makes a parser.
    public init(maximumDepth: Int = JSONParser.defaultMaximumDepth) {
        self.maximumDepth = maximumDepth
    }

    /// Parses a JSON text.
    public func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        var text = text
        let result = text.withUTF8 { parseResult($0) }
        return try result.get()
    }

    /// Parses JSON from UTF-8 bytes.
    public func parse(_ bytes: some Collection<UInt8>) throws(JSONParseError) -> JSONValue {
        if let result = bytes.withContiguousStorageIfAvailable({ parseResult($0) }) {
            return try result.get()
        }
        return try Array(bytes).withUnsafeBufferPointer { parseResult($0) }.get()
    }

    func parseResult(_ input: UnsafeBufferPointer<UInt8>) -> Result<JSONValue, JSONParseError> {
        var scanner = JSONScanner(input: input, maximumDepth: maximumDepth)
        do {
            return .success(try scanner.parseDocument())
        } catch {
            return .failure(error)
        }
    }
}

/// The parser's cursor over one input. Bytes are compared as ASCII code points.
struct JSONScanner {
    let input: UnsafeBufferPointer<UInt8>
    let maximumDepth: Int
    var index = 0
    var depth = 0
    /// Reused for strings that contain escapes.
    var scratch: [UInt8] = []

    init(input: UnsafeBufferPointer<UInt8>, maximumDepth: Int) {
        self.input = input
        self.maximumDepth = maximumDepth
    }

    mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        if input.count >= 3, input[0] == 0xEF, input[1] == 0xBB, input[2] == 0xBF { index = 3 }
        skipWhitespace()
        let value = try parseValue()
        skipWhitespace()
        if index < input.count {
            throw failure(.trailingContent, "unexpected \(describe(index)) after the value", at: index)
        }
        return value
    }

    // MARK: - Values

    private mutating func parseValue() throws(JSONParseError) -> JSONValue {
        guard index < input.count else { throw endOfInput(expecting: "a value") }
        switch input[index] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try parseNumber()
        case UInt8(ascii: "N"), UInt8(ascii: "I"):
            // The usual mistake: a JavaScript-style NaN or Infinity literal.
            throw failure(
                .unexpectedCharacter,
                "expected a value, found \(describe(index)) (NaN and Infinity are not JSON numbers; write the string \"NaN\", \"Infinity\" or \"-Infinity\")",
                at: index)
        default:
            throw failure(.unexpectedCharacter, "expected a value, found \(describe(index))", at: index)
        }
    }

    private mutating func parseObject() throws(JSONParseError) -> JSONValue {
        try enterContainer()
        index += 1
        var members: [String: JSONValue] = [:]
        skipWhitespace()
        if index < input.count, input[index] == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard index < input.count else { throw endOfInput(expecting: "a string key") }
            guard input[index] == UInt8(ascii: "\"") else {
                throw failure(.unexpectedCharacter, "expected a string key, found \(describe(index))", at: index)
            }
            let keyStart = index
            let key = try parseString()
            skipWhitespace()
            guard index < input.count else { throw endOfInput(expecting: "':' after the key \"\(key)\"") }
            guard input[index] == UInt8(ascii: ":") else {
                throw failure(
                    .unexpectedCharacter, "expected ':' after the key \"\(key)\", found \(describe(index))", at: index)
            }
            index += 1
            skipWhitespace()
            let value = try parseValue()
            if members.updateValue(value, forKey: key) != nil {
                throw failure(.duplicateKey, "the key \"\(key)\" appears twice in one object", at: keyStart)
            }
            skipWhitespace()
            guard index < input.count else { throw endOfInput(expecting: "',' or '}'") }
            switch input[index] {
            case UInt8(ascii: ","):
                index += 1
            case UInt8(ascii: "}"):
                index += 1
                depth -= 1
                return .object(members)
            default:
                throw failure(
                    .unexpectedCharacter, "expected ',' or '}' after a member of an object, found \(describe(index))",
                    at: index)
            }
        }
    }

    private mutating func parseArray() throws(JSONParseError) -> JSONValue {
        try enterContainer()
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if index < input.count, input[index] == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue())
            skipWhitespace()
            guard index < input.count else { throw endOfInput(expecting: "',' or ']'") }
            switch input[index] {
            case UInt8(ascii: ","):
                index += 1
            case UInt8(ascii: "]"):
                index += 1
                depth -= 1
                return .array(elements)
            default:
                throw failure(
                    .unexpectedCharacter, "expected ',' or ']' after an element of an array, found \(describe(index))",
                    at: index)
            }
        }
    }

    private mutating func enterContainer() throws(JSONParseError) {
        depth += 1
        if depth > maximumDepth {
            throw failure(.tooDeep, "arrays and objects nest deeper than \(maximumDepth) levels", at: index)
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let count = literal.utf8CodeUnitCount
        for offset in 0..<count {
            let position = index + offset
            guard position < input.count else { throw endOfInput(expecting: "'\(literal)'") }
            if input[position] != literal.utf8Start[offset] {
                throw failure(.unexpectedCharacter, "expected '\(literal)', found \(describe(position))", at: position)
            }
        }
        index += count
    }

    // MARK: - Numbers

    private mutating func parseNumber() throws(JSONParseError) -> JSONValue {
        let start = index
        let negative = input[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        guard index < input.count else { throw endOfInput(expecting: "a digit after '-'") }
        if input[index] == UInt8(ascii: "0") {
            index += 1
            if index < input.count, isDigit(input[index]) {
                throw failure(.invalidNumber, "a number may not start with 0 followed by more digits", at: start)
            }
        } else if isDigit(input[index]) {
            while index < input.count, isDigit(input[index]) { index += 1 }
        } else {
            throw failure(.invalidNumber, "expected a digit after '-', found \(describe(index))", at: index)
        }
        var isInteger = true
        if index < input.count, input[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            try digits(after: "the decimal point")
        }
        if index < input.count, input[index] == UInt8(ascii: "e") || input[index] == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if index < input.count, input[index] == UInt8(ascii: "+") || input[index] == UInt8(ascii: "-") {
                index += 1
            }
            try digits(after: "the exponent")
        }
        let text = UnsafeBufferPointer(rebasing: input[start..<index])
        if isInteger, let integer = JSONScanner.integer(text, negative: negative) { return .int(integer) }
        guard let number = Double(String(decoding: text, as: UTF8.self)) else {
            throw failure(.invalidNumber, "\(String(decoding: text, as: UTF8.self)) is not a number", at: start)
        }
        if number.isInfinite {
            throw failure(
                .numberOutOfRange, "\(String(decoding: text, as: UTF8.self)) is too large for a double", at: start)
        }
        return .double(number)
    }

    private mutating func digits(after what: String) throws(JSONParseError) {
        guard index < input.count else { throw endOfInput(expecting: "a digit after \(what)") }
        guard isDigit(input[index]) else {
            throw failure(.invalidNumber, "expected a digit after \(what), found \(describe(index))", at: index)
        }
        while index < input.count, isDigit(input[index]) { index += 1 }
    }

    /// The integer, or nil when it does not fit in `Int64`.
    private static func integer(_ text: UnsafeBufferPointer<UInt8>, negative: Bool) -> Int64? {
        // Accumulated as a negative number: Int64.min has no positive twin.
        var value: Int64 = 0
        for byte in text where byte != UInt8(ascii: "-") {
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (next, overflow2) = times10.subtractingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
            if overflow1 || overflow2 { return nil }
            value = next
        }
        if negative { return value }
        return value == .min ? nil : -value
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    // MARK: - Strings

    private mutating func parseString() throws(JSONParseError) -> String {
        let opening = index
        index += 1
        var runStart = index
        var escaped = false
        scratch.removeAll(keepingCapacity: true)
        while true {
            guard index < input.count else {
                let (line, column) = location(of: opening)
                throw endOfInput(expecting: "the end of the string that starts at line \(line), column \(column)")
            }
            let byte = input[index]
            if byte == UInt8(ascii: "\"") { break }
            if byte == UInt8(ascii: "\\") {
                escaped = true
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: input[runStart..<index]))
                try parseEscape()
                runStart = index
                continue
            }
            if byte < 0x20 {
                throw failure(
                    .controlCharacterInString,
                    "a raw control character (\(describe(index))) inside a string; write it as an escape", at: index)
            }
            if byte >= 0x80 {
                guard let length = utf8SequenceLength(at: index) else {
                    throw failure(.invalidUTF8, "invalid UTF-8 (byte 0x\(hex(byte)))", at: index)
                }
                index += length
                continue
            }
            index += 1
        }
        let text: String
        if escaped {
            scratch.append(contentsOf: UnsafeBufferPointer(rebasing: input[runStart..<index]))
            text = String(decoding: scratch, as: UTF8.self)
        } else {
            text = String(decoding: UnsafeBufferPointer(rebasing: input[runStart..<index]), as: UTF8.self)
        }
        index += 1
        return text
    }

    /// Reads one escape at `index` (the backslash) and appends its UTF-8 to `scratch`.
    private mutating func parseEscape() throws(JSONParseError) {
        let backslash = index
        index += 1
        guard index < input.count else { throw endOfInput(expecting: "an escape after '\\'") }
        let letter = input[index]
        index += 1
        switch letter {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scratch.append(letter)
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
        case UInt8(ascii: "u"):
            let first = try hexQuad()
            var scalarValue = UInt32(first)
            if (0xD800...0xDBFF).contains(first) {
                guard index + 1 < input.count, input[index] == UInt8(ascii: "\\"), input[index + 1] == UInt8(ascii: "u")
                else {
                    throw failure(
                        .invalidEscape, "\\u\(hex16(first)) is a high surrogate without a low surrogate after it",
                        at: backslash)
                }
                index += 2
                let second = try hexQuad()
                guard (0xDC00...0xDFFF).contains(second) else {
                    throw failure(
                        .invalidEscape, "\\u\(hex16(first)) is a high surrogate followed by \\u\(hex16(second)), not a low surrogate",
                        at: backslash)
                }
                scalarValue = 0x10000 + ((UInt32(first) - 0xD800) << 10) + (UInt32(second) - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(first) {
                throw failure(.invalidEscape, "\\u\(hex16(first)) is a low surrogate without a high surrogate before it", at: backslash)
            }
            // Surrogates were handled above, so every remaining value is a scalar.
            guard let scalar = Unicode.Scalar(scalarValue) else {
                throw failure(.invalidEscape, "\\u escape gives no Unicode scalar", at: backslash)
            }
            UTF8.encode(scalar) { scratch.append($0) }
        default:
            let shown = (0x21...0x7E).contains(letter) ? "'\\\(Character(Unicode.Scalar(letter)))'" : "'\\' before \(describeByte(letter))"
            throw failure(
                .invalidEscape, "\(shown) is not a JSON escape (use \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)",
                at: backslash)
        }
    }

    private mutating func hexQuad() throws(JSONParseError) -> UInt16 {
        var value: UInt16 = 0
        for _ in 0..<4 {
            guard index < input.count else { throw endOfInput(expecting: "four hex digits after '\\u'") }
            let byte = input[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default:
                throw failure(.invalidEscape, "expected four hex digits after '\\u', found \(describe(index))", at: index)
            }
            value = value << 4 | UInt16(digit)
            index += 1
        }
        return value
    }

    /// The length of the valid UTF-8 sequence that starts at `position`, or nil
    /// (overlong forms, surrogates and values above U+10FFFF are invalid).
    private func utf8SequenceLength(at position: Int) -> Int? {
        let lead = input[position]
        let length: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0:
            length = 3
            secondRange = 0xA0...0xBF
        case 0xED:
            length = 3
            secondRange = 0x80...0x9F
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xF0:
            length = 4
            secondRange = 0x90...0xBF
        case 0xF1...0xF3: length = 4
        case 0xF4:
            length = 4
            secondRange = 0x80...0x8F
        default: return nil
        }
        guard position + length <= input.count, secondRange.contains(input[position + 1]) else { return nil }
        for offset in 2..<length where !(0x80...0xBF).contains(input[position + offset]) { return nil }
        return length
    }

    // MARK: - Whitespace and positions

    private mutating func skipWhitespace() {
        while index < input.count {
            switch input[index] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): index += 1
            default: return
            }
        }
    }

    /// Line and column (both from 1, columns in Unicode scalars) of a byte offset.
    func location(of offset: Int) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        for position in 0..<min(offset, input.count) {
            let byte = input[position]
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        return (line, column)
    }

    private func failure(_ code: JSONParseError.Code, _ message: String, at offset: Int) -> JSONParseError {
        let (line, column) = location(of: offset)
        return JSONParseError(code, message, line: line, column: column, offset: offset)
    }

    private func endOfInput(expecting what: String) -> JSONParseError {
        failure(.unexpectedEnd, "the input ends where \(what) was expected", at: input.count)
    }

    /// A readable name for the character at `position`, for messages.
    private func describe(_ position: Int) -> String {
        guard position < input.count else { return "the end of the input" }
        let byte = input[position]
        if byte >= 0x80 {
            guard let length = utf8SequenceLength(at: position) else { return "byte 0x\(hex(byte))" }
            let text = String(decoding: UnsafeBufferPointer(rebasing: input[position..<position + length]), as: UTF8.self)
            let scalar = text.unicodeScalars.first.map { String($0.value, radix: 16, uppercase: true) } ?? ""
            return "'\(text)' (U+\(String(repeating: "0", count: max(0, 4 - scalar.count)) + scalar))"
        }
        return describeByte(byte)
    }

    private func describeByte(_ byte: UInt8) -> String {
        switch byte {
        case UInt8(ascii: "\n"): "a line break"
        case UInt8(ascii: "\r"): "a carriage return"
        case UInt8(ascii: "\t"): "a tab"
        case UInt8(ascii: " "): "a space"
        case 0x21...0x7E: "'\(Character(Unicode.Scalar(byte)))'"
        default: "U+00\(hex(byte))"
        }
    }

    private func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16, uppercase: true)
        return digits.count == 1 ? "0" + digits : digits
    }

    private func hex16(_ value: UInt16) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
