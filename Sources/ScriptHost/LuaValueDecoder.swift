/// Decodes `Decodable` Swift values from ``LuaValue``s copied out of a Lua state.
///
/// A table decodes as a struct (its string keys are the fields) or as an array
/// (its sequence `1...n`); scalars decode as the matching Swift types. Nothing
/// is coerced the way Lua itself coerces: a string is never a number and only
/// `true`/`false` are booleans. What a caller must know:
///
/// - Numbers: integers decode into `Double`/`Float`; floats with an integral value
///   (`3.0`) decode into integer types; anything else that does not fit the Swift
///   type exactly is an error. NaN and infinities decode only into floating types.
/// - Missing fields and `nil` are the same thing in Lua, so both decode as `nil`
///   into optionals and both are a `missing field` error otherwise.
/// - An empty table decodes as an empty array (and as a struct whose fields are all optional).
/// - Arrays read the keys `1...n`, where `n` is the largest positive integer key.
///   A hole (`{1, nil, 3}`) decodes as `nil` into an optional element and is an
///   error otherwise; a table with more holes than elements (and over 16 slots)
///   is refused rather than padded. Other keys are ignored, as a struct ignores
///   fields it does not declare.
/// - Structs and dictionaries read the string keys of a table; other keys are ignored.
///   So an `[Int: V]` reads keys like `"404"` (what ``LuaValueEncoder`` writes),
///   not the integer key `404`; decode integer-keyed tables as arrays.
/// - A Lua string that is not valid UTF-8 (``LuaValue/bytes(_:)``) never decodes as `String`.
/// - Every failure is a ``LuaDecodingError`` whose path names the offending field,
///   in Lua's notation and with Lua's 1-based indices.
///
/// ```swift
/// struct Param: Decodable { var name: String; var value: Double }
/// struct RunResult: Decodable { var params: [Param] }
///
/// // The script returned { params = { {name="a", value=1}, {name="b", value="x"} } }:
/// let result = try LuaValueDecoder().decode(RunResult.self, from: returned, rootName: "result")
/// // throws LuaDecodingError "result.params[2].value: expected number, got string"
/// ```
public struct LuaValueDecoder: Sendable {
    /// Context handed to every `init(from:)` as `decoder.userInfo`.
    ///
    /// ```swift
    /// var decoder = LuaValueDecoder()
    /// decoder.userInfo[.pipelineName] = "checkout"
    /// ```
    public var userInfo: [CodingUserInfoKey: any Sendable]

    /// A decoder with the given `userInfo` (empty by default).
    ///
    /// ```swift
    /// let decoder = LuaValueDecoder()
    /// ```
    public init(userInfo: [CodingUserInfoKey: any Sendable] = [:]) {
        self.userInfo = userInfo
    }

    /// Decodes a value of `type` from `value`.
    ///
    /// `rootName` is how error paths spell `value` itself: decoding a script's
    /// return value with `rootName: "result"` reports `result.name: missing field`.
    /// Errors thrown by a type's own `init(from:)` are reported as
    /// ``LuaDecodingError`` too, at the path of the value being decoded, with the
    /// error's description as the message. To reject a value from `init(from:)`,
    /// throw `DecodingError.dataCorruptedError(forKey:in:debugDescription:)` (or
    /// any error): its description becomes the message at the right path.
    ///
    /// ```swift
    /// let limits = try LuaValueDecoder().decode([String: Int].self, from: ["checkout": 3])
    /// ```
    public func decode<T: Decodable>(
        _ type: T.Type, from value: LuaValue, rootName: String = "value"
    ) throws(LuaDecodingError) -> T {
        let decoder = LuaValueDecoding(value: value, codingPath: [], userInfo: userInfo)
        do {
            return try decoder.decodeValue(T.self)
        } catch let error as DecodingError {
            throw LuaDecodingError(error, rootName: rootName)
        } catch {
            // decodeValue wraps every other error in a DecodingError, so this is a safety net.
            throw LuaDecodingError(path: rootName, message: String(describing: error))
        }
    }
}

/// Why a ``LuaValue`` could not be decoded, and where.
///
/// `path` spells the place the way a script author would reach it: the root name,
/// `.field` for string keys (`["odd key"]` when the key is not an identifier) and
/// `[n]` with Lua's 1-based indices. `message` is one of:
///
/// - `missing field` — a required key is absent or `nil`;
/// - `expected <type>, got <type>` — with Lua type names (`nil`, `boolean`, `number`,
///   `string`, `table`), e.g. `expected table, got number`;
/// - `expected integer, got 2.5` — a number with no integer representation;
/// - `300 is out of range for UInt8` — a number that does not fit the Swift type;
/// - `not valid UTF-8` — a Lua string decoded as `String` whose bytes are not UTF-8;
/// - `expected sequence, got sparse table (...)` — an array with too many holes;
/// - the description of an error thrown by a type's own `init(from:)`.
///
/// ```swift
/// do {
///     _ = try LuaValueDecoder().decode(RunResult.self, from: returned, rootName: "result")
/// } catch {
///     print(error.path)     // result.params[2].value
///     print(error.message)  // expected number, got string
///     print(error)          // result.params[2].value: expected number, got string
/// }
/// ```
public struct LuaDecodingError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Where decoding failed, e.g. `result.params[2].value`.
    public let path: String
    /// What was wrong there, e.g. `expected number, got string`.
    public let message: String

    /// An error at `path` saying `message`, for checks made after decoding that
    /// should read like the decoder's own errors.
    ///
    /// ```swift
    /// guard settings.window > 0 else {
    ///     throw LuaDecodingError(path: "result.window", message: "must be positive")
    /// }
    /// ```
    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    /// `path: message`, ready for a log line or a script author.
    public var description: String { "\(path): \(message)" }

    /// Translates the standard error that the private decoder (or a type's own
    /// `init(from:)`) threw, whose coding path is relative to the root value.
    init(_ error: DecodingError, rootName: String) {
        switch error {
        case .keyNotFound(let key, let context):
            let path = LuaCodingPath.render(context.codingPath + [key], rootName: rootName)
            self.init(path: path, message: "missing field")
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            let path = LuaCodingPath.render(context.codingPath, rootName: rootName)
            self.init(path: path, message: context.debugDescription)
        @unknown default:
            self.init(path: rootName, message: String(describing: error))
        }
    }
}

/// Coding keys and path spelling shared by ``LuaValueDecoder`` and ``LuaValueEncoder``.
enum LuaCodingPath {
    /// The coding key of an array element. It carries Lua's 1-based index so that
    /// a `codingPath` seen by user code matches what the script wrote.
    struct IndexKey: CodingKey {
        let luaIndex: Int
        init(luaIndex: Int) { self.luaIndex = luaIndex }
        init?(intValue: Int) { self.luaIndex = intValue }
        init?(stringValue: String) { nil }
        var intValue: Int? { luaIndex }
        var stringValue: String { "\(luaIndex)" }
    }

    /// The key `superDecoder()`/`superEncoder()` use, as Foundation's coders do.
    struct SuperKey: CodingKey {
        init() {}
        init?(intValue: Int) { nil }
        init?(stringValue: String) { if stringValue != "super" { return nil } }
        var intValue: Int? { nil }
        var stringValue: String { "super" }
    }

    /// `result.params[2].value` for the coding path `params, 2, value` under `result`.
    static func render(_ codingPath: [any CodingKey], rootName: String) -> String {
        var path = rootName
        for key in codingPath {
            if let index = key as? IndexKey {
                path += "[\(index.luaIndex)]"
            } else if isIdentifier(key.stringValue) {
                path += ".\(key.stringValue)"
            } else {
                // Quoted so that a key like "a.b" cannot be mistaken for two fields.
                path += "[\"\(escaped(key.stringValue))\"]"
            }
        }
        return path
    }

    /// Whether `name` has the shape of a Lua name. Reserved words count as names:
    /// the path is for people, and `result.end` reads better than `result["end"]`.
    private static func isIdentifier(_ name: String) -> Bool {
        func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
        func isLetter(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || byte == UInt8(ascii: "_")
        }
        guard let first = name.utf8.first, isLetter(first) else { return false }
        return name.utf8.allSatisfy { isLetter($0) || isDigit($0) }
    }

    private static func escaped(_ key: String) -> String {
        var result = ""
        for character in key {
            switch character {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default: result.append(character)
            }
        }
        return result
    }
}

// MARK: - Decoder

/// The `Decoder` handed to `init(from:)`: one Lua value and where it sits.
///
/// It throws the standard `DecodingError`s that the `Decoder` protocol documents,
/// so that `init(from:)` implementations which catch them (to fall back or try
/// another shape) behave as they do with other decoders. ``LuaValueDecoder``
/// turns them into ``LuaDecodingError`` at the top.
private struct LuaValueDecoding: Decoder {
    let value: LuaValue
    let codingPath: [any CodingKey]
    let userInfo: [CodingUserInfoKey: Any]

    func child(_ value: LuaValue, at key: any CodingKey) -> LuaValueDecoding {
        LuaValueDecoding(value: value, codingPath: codingPath + [key], userInfo: userInfo)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(LuaFieldReader<Key>(fields: try table(), decoder: self))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        LuaSequenceReader(slots: try sequenceSlots(of: try table()), decoder: self)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        LuaSingleValueReader(decoder: self)
    }

    // MARK: Reading this value

    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        do {
            return try T(from: self)
        } catch let error as DecodingError {
            throw error
        } catch {
            // Caught at the innermost value so that the path says where it happened.
            throw DecodingError.dataCorrupted(
                .init(codingPath: codingPath, debugDescription: String(describing: error), underlyingError: error))
        }
    }

    func decodeBool() throws -> Bool {
        guard case .boolean(let bool) = value else { throw mismatch(expected: "boolean", Bool.self) }
        return bool
    }

    func decodeString() throws -> String {
        switch value {
        case .string(let string):
            return string
        case .bytes:
            throw corrupted("not valid UTF-8")
        default:
            throw mismatch(expected: "string", String.self)
        }
    }

    func decodeInteger<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        switch value {
        case .integer(let integer):
            guard let result = T(exactly: integer) else { throw outOfRange(T.self) }
            return result
        case .number(let number):
            guard number.isFinite, number.rounded() == number else {
                throw corrupted("expected integer, got \(value)")
            }
            guard let result = T(exactly: number) else { throw outOfRange(T.self) }
            return result
        default:
            throw mismatch(expected: "number", T.self)
        }
    }

    func decodeFloatingPoint<T: BinaryFloatingPoint>(_ type: T.Type) throws -> T {
        switch value {
        case .integer(let integer):
            // Rounds above 2^53 for Double, as Lua's own integer-to-float conversion does.
            return T(integer)
        case .number(let number):
            let result = T(number)
            // A finite Double too large for Float would otherwise turn into infinity silently.
            guard result.isFinite || !number.isFinite else { throw outOfRange(T.self) }
            return result
        default:
            throw mismatch(expected: "number", T.self)
        }
    }

    // MARK: Errors

    /// `nil` where a value is required is `valueNotFound`, as the `Decoder` protocol documents.
    func mismatch(expected luaType: String, _ type: Any.Type) -> DecodingError {
        let context = DecodingError.Context(
            codingPath: codingPath, debugDescription: "expected \(luaType), got \(value.typeName)")
        return value.isNil ? .valueNotFound(type, context) : .typeMismatch(type, context)
    }

    func outOfRange(_ type: Any.Type) -> DecodingError {
        corrupted("\(value) is out of range for \(type)")
    }

    func corrupted(_ message: String) -> DecodingError {
        .dataCorrupted(.init(codingPath: codingPath, debugDescription: message))
    }

    private func table() throws -> [LuaKey: LuaValue] {
        guard case .table(let table) = value else { throw mismatch(expected: "table", [LuaKey: LuaValue].self) }
        return table
    }

    /// The slots `1...n` of `table`, `.nil` in holes, where `n` is its largest positive integer key.
    ///
    /// `n` rather than the first border (as `LuaValue.arrayValue` uses) so that a hole
    /// is reported or decoded as `nil` instead of silently cutting the array short.
    /// Tables that would be mostly holes are refused: a script returning
    /// `{[2^40] = 1}` must not make the host allocate 2^40 slots.
    private func sequenceSlots(of table: [LuaKey: LuaValue]) throws -> [LuaValue] {
        var elements: [Int64: LuaValue] = [:]
        for (key, element) in table where !element.isNil {
            if let index = Self.sequenceIndex(of: key) { elements[index] = element }
        }
        let largestIndex = elements.keys.max() ?? 0
        let alwaysAcceptedSlots: Int64 = 16
        guard largestIndex <= max(2 * Int64(elements.count), alwaysAcceptedSlots) else {
            throw corrupted(
                "expected sequence, got sparse table (largest index \(largestIndex), \(elements.count) elements)")
        }
        guard largestIndex > 0 else { return [] }
        return (1...largestIndex).map { elements[$0] ?? .nil }
    }

    /// The array index a key stands for; `LuaKey.number` is checked too in case a
    /// table was built in Swift without ``LuaKey/init(number:)``'s normalization.
    private static func sequenceIndex(of key: LuaKey) -> Int64? {
        switch key {
        case .integer(let index) where index >= 1: index
        case .number(let number): Int64(exactly: number).flatMap { $0 >= 1 ? $0 : nil }
        default: nil
        }
    }
}

// MARK: - Containers

/// Reads the string keys of a table as the fields of a struct or the keys of a dictionary.
///
/// A field holding `.nil` counts as absent: Lua cannot tell the two apart.
private struct LuaFieldReader<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let fields: [LuaKey: LuaValue]
    let decoder: LuaValueDecoding

    var codingPath: [any CodingKey] { decoder.codingPath }

    /// Sorted so that decoding a dictionary reports the same bad entry every time.
    var allKeys: [Key] {
        fields.filter { !$0.value.isNil }.keys.sorted().compactMap { key in
            if case .string(let name) = key { Key(stringValue: name) } else { nil }
        }
    }

    func contains(_ key: Key) -> Bool { !value(for: key).isNil }

    func decodeNil(forKey key: Key) throws -> Bool { value(for: key).isNil }

    private func value(for key: Key) -> LuaValue { fields[.string(key.stringValue)] ?? .nil }

    private func field(_ key: Key) throws -> LuaValueDecoding {
        let value = value(for: key)
        guard !value.isNil else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "missing field"))
        }
        return decoder.child(value, at: key)
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try field(key).decodeBool() }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try field(key).decodeString() }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try field(key).decodeFloatingPoint(type) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try field(key).decodeFloatingPoint(type) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try field(key).decodeInteger(type) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try field(key).decodeInteger(type) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try field(key).decodeInteger(type) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try field(key).decodeInteger(type) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try field(key).decodeInteger(type) }
    func decode(_ type: Int128.Type, forKey key: Key) throws -> Int128 { try field(key).decodeInteger(type) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try field(key).decodeInteger(type) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try field(key).decodeInteger(type) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try field(key).decodeInteger(type) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try field(key).decodeInteger(type) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try field(key).decodeInteger(type) }
    func decode(_ type: UInt128.Type, forKey key: Key) throws -> UInt128 { try field(key).decodeInteger(type) }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        // Synthesized code asks for a generic property (`var value: Wrapped` with
        // `Wrapped == Int?`) with decode rather than decodeIfPresent. In Lua a missing
        // field is nil, and the encoder leaves nil fields out, so this must decode nil.
        if T.self is any LuaNilDecodable.Type, !contains(key) {
            return try decoder.child(.nil, at: key).decodeValue(type)
        }
        return try field(key).decodeValue(type)
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type, forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        try field(key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try field(key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        decoder.child(fields[.string("super")] ?? .nil, at: LuaCodingPath.SuperKey())
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        decoder.child(value(for: key), at: key)
    }
}

/// Reads the slots `1...n` of a table as the elements of an array.
///
/// Reading past the end yields `nil`, as indexing a Lua table past its end does.
private struct LuaSequenceReader: UnkeyedDecodingContainer {
    let slots: [LuaValue]
    let decoder: LuaValueDecoding
    private(set) var currentIndex = 0

    init(slots: [LuaValue], decoder: LuaValueDecoding) {
        self.slots = slots
        self.decoder = decoder
    }

    var codingPath: [any CodingKey] { decoder.codingPath }
    var count: Int? { slots.count }
    var isAtEnd: Bool { currentIndex >= slots.count }

    private var current: LuaValue { isAtEnd ? .nil : slots[currentIndex] }

    private mutating func next() -> LuaValueDecoding {
        let element = decoder.child(current, at: LuaCodingPath.IndexKey(luaIndex: currentIndex + 1))
        currentIndex += 1
        return element
    }

    /// Advances only past a `nil`, as the protocol requires.
    mutating func decodeNil() throws -> Bool {
        guard current.isNil else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try next().decodeBool() }
    mutating func decode(_ type: String.Type) throws -> String { try next().decodeString() }
    mutating func decode(_ type: Double.Type) throws -> Double { try next().decodeFloatingPoint(type) }
    mutating func decode(_ type: Float.Type) throws -> Float { try next().decodeFloatingPoint(type) }
    mutating func decode(_ type: Int.Type) throws -> Int { try next().decodeInteger(type) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try next().decodeInteger(type) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try next().decodeInteger(type) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try next().decodeInteger(type) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try next().decodeInteger(type) }
    mutating func decode(_ type: Int128.Type) throws -> Int128 { try next().decodeInteger(type) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try next().decodeInteger(type) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try next().decodeInteger(type) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try next().decodeInteger(type) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try next().decodeInteger(type) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try next().decodeInteger(type) }
    mutating func decode(_ type: UInt128.Type) throws -> UInt128 { try next().decodeInteger(type) }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next().decodeValue(type) }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type
    ) throws -> KeyedDecodingContainer<NestedKey> {
        try next().container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try next().unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder { next() }
}

/// Marks `Optional`, the type a missing field decodes into as `nil`.
private protocol LuaNilDecodable {}

extension Optional: LuaNilDecodable {}

/// Reads a value that is not a container, or an `Optional`'s `nil`.
private struct LuaSingleValueReader: SingleValueDecodingContainer {
    let decoder: LuaValueDecoding

    var codingPath: [any CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool { decoder.value.isNil }

    func decode(_ type: Bool.Type) throws -> Bool { try decoder.decodeBool() }
    func decode(_ type: String.Type) throws -> String { try decoder.decodeString() }
    func decode(_ type: Double.Type) throws -> Double { try decoder.decodeFloatingPoint(type) }
    func decode(_ type: Float.Type) throws -> Float { try decoder.decodeFloatingPoint(type) }
    func decode(_ type: Int.Type) throws -> Int { try decoder.decodeInteger(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try decoder.decodeInteger(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try decoder.decodeInteger(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try decoder.decodeInteger(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try decoder.decodeInteger(type) }
    func decode(_ type: Int128.Type) throws -> Int128 { try decoder.decodeInteger(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try decoder.decodeInteger(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try decoder.decodeInteger(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try decoder.decodeInteger(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try decoder.decodeInteger(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try decoder.decodeInteger(type) }
    func decode(_ type: UInt128.Type) throws -> UInt128 { try decoder.decodeInteger(type) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.decodeValue(type) }
}
