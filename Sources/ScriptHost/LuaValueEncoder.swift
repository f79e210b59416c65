/// Encodes `Encodable` Swift values as ``LuaValue``s to hand to a Lua state.
///
/// The mapping is the one ``LuaValueDecoder`` reads back. What a caller must know:
///
/// - Structs and dictionaries become tables with string keys; arrays and other
///   unkeyed values become sequences with keys `1...n`. The keys of an `[Int: V]`
///   dictionary become strings too (`"404"`), because `Codable` spells them the
///   same way as the `String` key `"404"`; use an array for a sequence.
/// - Integer types become ``LuaValue/integer(_:)``; a value that does not fit
///   `Int64` (a `UInt64` above `Int64.max`, say) is an `EncodingError` whose
///   description starts with the path, e.g. `value.counters[2]: ...`.
/// - `Double` and `Float` become ``LuaValue/number(_:)``, NaN and infinities included.
/// - `nil` becomes ``LuaValue/nil``. Lua cannot store `nil` in a table, so a `nil`
///   field is left out and a `nil` array element leaves a hole, which
///   ``LuaValueDecoder`` reads back as `nil` (trailing `nil`s are lost, as in Lua).
///   For the same reason `Optional<Optional<T>>.some(nil)` reads back as `nil`.
/// - A value whose `encode(to:)` encodes nothing becomes an empty table.
///
/// ```swift
/// struct Call: Encodable { var pipeline: String; var attempts: Int; var note: String? }
///
/// let arguments = try LuaValueEncoder().encode(Call(pipeline: "checkout", attempts: 3, note: nil))
/// // arguments == ["pipeline": "checkout", "attempts": 3]
/// ```
public struct LuaValueEncoder: Sendable {
    /// Context handed to every `encode(to:)` as `encoder.userInfo`.
    ///
    /// ```swift
    /// var encoder = LuaValueEncoder()
    /// encoder.userInfo[.pipelineName] = "checkout"
    /// ```
    public var userInfo: [CodingUserInfoKey: any Sendable]

    /// An encoder with the given `userInfo` (empty by default).
    ///
    /// ```swift
    /// let encoder = LuaValueEncoder()
    /// ```
    public init(userInfo: [CodingUserInfoKey: any Sendable] = [:]) {
        self.userInfo = userInfo
    }

    /// Encodes `value` as a Lua value.
    ///
    /// Throws `EncodingError.invalidValue` for an integer outside `Int64` and for an
    /// `encode(to:)` that asks for two different kinds of container for one value;
    /// the error's `debugDescription` begins with the path, spelled from `rootName`
    /// as ``LuaDecodingError/path`` is. Errors thrown by a type's own
    /// `encode(to:)` pass through unchanged.
    ///
    /// ```swift
    /// let arguments = try LuaValueEncoder().encode(["checkout", "deploy"])
    /// // arguments == ["checkout", "deploy"], the table { [1] = "checkout", [2] = "deploy" }
    /// ```
    public func encode<T: Encodable>(_ value: T, rootName: String = "value") throws -> LuaValue {
        let root = LuaValueDraft()
        let encoder = LuaValueEncoding(draft: root, codingPath: [], rootName: rootName, userInfo: userInfo)
        try value.encode(to: encoder)
        return try root.build()
    }
}

// MARK: - Drafts

/// A Lua value under construction.
///
/// A class because containers, nested containers and super encoders all write into
/// the same value after the call that created them has returned; it becomes a
/// ``LuaValue`` once encoding is over.
private final class LuaValueDraft {
    enum Shape {
        /// Nothing encoded yet.
        case empty
        case scalar(LuaValue)
        /// Fields in ``LuaValueDraft/fields``.
        case fields
        /// Elements in ``LuaValueDraft/elements``.
        case elements
    }

    /// A part of a table: a finished value, or a draft a nested encoder is still filling.
    enum Slot {
        case value(LuaValue)
        case draft(LuaValueDraft)

        func build() throws -> LuaValue {
            switch self {
            case .value(let value): value
            case .draft(let draft): try draft.build()
            }
        }
    }

    var shape = Shape.empty
    var fields: [String: Slot] = [:]
    var elements: [Slot] = []
    /// Set when `encode(to:)` misuses the encoder; thrown by ``build()`` because the
    /// container methods that notice it cannot throw.
    var misuse: EncodingError?

    func build() throws -> LuaValue {
        if let misuse { throw misuse }
        switch shape {
        case .empty:
            return .table([:])
        case .scalar(let value):
            return value
        case .fields:
            var table: [LuaKey: LuaValue] = [:]
            for (name, slot) in fields {
                let value = try slot.build()
                if !value.isNil { table[.string(name)] = value }
            }
            return .table(table)
        case .elements:
            var table: [LuaKey: LuaValue] = [:]
            for (offset, slot) in elements.enumerated() {
                let value = try slot.build()
                // A nil element leaves a hole but still takes its index.
                if !value.isNil { table[.integer(Int64(offset + 1))] = value }
            }
            return .table(table)
        }
    }
}

// MARK: - Encoder

/// The `Encoder` handed to `encode(to:)`: fills one draft, knowing where it sits.
private struct LuaValueEncoding: Encoder {
    let draft: LuaValueDraft
    let codingPath: [any CodingKey]
    let rootName: String
    let userInfo: [CodingUserInfoKey: Any]

    func child(_ draft: LuaValueDraft, at key: any CodingKey) -> LuaValueEncoding {
        LuaValueEncoding(draft: draft, codingPath: codingPath + [key], rootName: rootName, userInfo: userInfo)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        switch draft.shape {
        case .empty: draft.shape = .fields
        case .fields: break  // A second keyed container adds to the same table, as with other encoders.
        case .scalar, .elements: recordMisuse("a keyed container")
        }
        return KeyedEncodingContainer(LuaFieldWriter<Key>(encoder: self))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        switch draft.shape {
        case .empty: draft.shape = .elements
        case .elements: break
        case .scalar, .fields: recordMisuse("an unkeyed container")
        }
        return LuaSequenceWriter(encoder: self)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        LuaSingleValueWriter(encoder: self)
    }

    // MARK: Writing this value

    func setScalar(_ value: LuaValue) {
        guard case .empty = draft.shape else {
            recordMisuse("a single value")
            return
        }
        draft.shape = .scalar(value)
    }

    /// `value` as a Lua integer; `codingPath` is where it goes, for the error.
    func luaInteger<T: BinaryInteger>(_ value: T, at codingPath: [any CodingKey]) throws -> LuaValue {
        guard let integer = Int64(exactly: value) else {
            let path = LuaCodingPath.render(codingPath, rootName: rootName)
            throw EncodingError.invalidValue(
                value,
                .init(
                    codingPath: codingPath,
                    debugDescription: "\(path): \(value) is out of range for a Lua integer (Int64)"))
        }
        return .integer(integer)
    }

    private func recordMisuse(_ requested: String) {
        guard draft.misuse == nil else { return }
        let path = LuaCodingPath.render(codingPath, rootName: rootName)
        draft.misuse = EncodingError.invalidValue(
            requested,
            .init(
                codingPath: codingPath,
                debugDescription: "\(path): encode(to:) asked for \(requested) after encoding something else here"))
    }
}

// MARK: - Containers

/// Writes the fields of a struct or the entries of a dictionary as string keys of a table.
private struct LuaFieldWriter<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoder: LuaValueEncoding

    var codingPath: [any CodingKey] { encoder.codingPath }

    private func set(_ value: LuaValue, forKey key: Key) {
        encoder.draft.fields[key.stringValue] = .value(value)
    }

    private func childEncoder(forKey key: Key) -> LuaValueEncoding {
        let draft = LuaValueDraft()
        encoder.draft.fields[key.stringValue] = .draft(draft)
        return encoder.child(draft, at: key)
    }

    /// Lua cannot store `nil`: the field is simply absent.
    mutating func encodeNil(forKey key: Key) { encoder.draft.fields[key.stringValue] = nil }

    mutating func encode(_ value: Bool, forKey key: Key) { set(.boolean(value), forKey: key) }
    mutating func encode(_ value: String, forKey key: Key) { set(.string(value), forKey: key) }
    mutating func encode(_ value: Double, forKey key: Key) { set(.number(value), forKey: key) }
    mutating func encode(_ value: Float, forKey key: Key) { set(.number(Double(value)), forKey: key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { try encodeInteger(value, forKey: key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { try encodeInteger(value, forKey: key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { try encodeInteger(value, forKey: key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { try encodeInteger(value, forKey: key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { try encodeInteger(value, forKey: key) }
    mutating func encode(_ value: Int128, forKey key: Key) throws { try encodeInteger(value, forKey: key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { try encodeInteger(value, forKey: key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { try encodeInteger(value, forKey: key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { try encodeInteger(value, forKey: key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { try encodeInteger(value, forKey: key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { try encodeInteger(value, forKey: key) }
    mutating func encode(_ value: UInt128, forKey key: Key) throws { try encodeInteger(value, forKey: key) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try value.encode(to: childEncoder(forKey: key))
    }

    private func encodeInteger<T: BinaryInteger>(_ value: T, forKey key: Key) throws {
        set(try encoder.luaInteger(value, at: codingPath + [key]), forKey: key)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type, forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        childEncoder(forKey: key).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        childEncoder(forKey: key).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        let draft = LuaValueDraft()
        encoder.draft.fields["super"] = .draft(draft)
        return encoder.child(draft, at: LuaCodingPath.SuperKey())
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder { childEncoder(forKey: key) }
}

/// Writes the elements of an array as the sequence `1...n` of a table.
private struct LuaSequenceWriter: UnkeyedEncodingContainer {
    let encoder: LuaValueEncoding

    var codingPath: [any CodingKey] { encoder.codingPath }
    var count: Int { encoder.draft.elements.count }

    /// The coding key of the element about to be appended.
    private var nextKey: LuaCodingPath.IndexKey { LuaCodingPath.IndexKey(luaIndex: count + 1) }

    private func append(_ value: LuaValue) { encoder.draft.elements.append(.value(value)) }

    private func appendChild() -> LuaValueEncoding {
        let draft = LuaValueDraft()
        let child = encoder.child(draft, at: nextKey)
        encoder.draft.elements.append(.draft(draft))
        return child
    }

    /// Leaves a hole: Lua cannot store `nil`, but later elements keep their indices.
    mutating func encodeNil() { append(.nil) }

    mutating func encode(_ value: Bool) { append(.boolean(value)) }
    mutating func encode(_ value: String) { append(.string(value)) }
    mutating func encode(_ value: Double) { append(.number(value)) }
    mutating func encode(_ value: Float) { append(.number(Double(value))) }
    mutating func encode(_ value: Int) throws { try encodeInteger(value) }
    mutating func encode(_ value: Int8) throws { try encodeInteger(value) }
    mutating func encode(_ value: Int16) throws { try encodeInteger(value) }
    mutating func encode(_ value: Int32) throws { try encodeInteger(value) }
    mutating func encode(_ value: Int64) throws { try encodeInteger(value) }
    mutating func encode(_ value: Int128) throws { try encodeInteger(value) }
    mutating func encode(_ value: UInt) throws { try encodeInteger(value) }
    mutating func encode(_ value: UInt8) throws { try encodeInteger(value) }
    mutating func encode(_ value: UInt16) throws { try encodeInteger(value) }
    mutating func encode(_ value: UInt32) throws { try encodeInteger(value) }
    mutating func encode(_ value: UInt64) throws { try encodeInteger(value) }
    mutating func encode(_ value: UInt128) throws { try encodeInteger(value) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try value.encode(to: appendChild())
    }

    private func encodeInteger<T: BinaryInteger>(_ value: T) throws {
        append(try encoder.luaInteger(value, at: codingPath + [nextKey]))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type
    ) -> KeyedEncodingContainer<NestedKey> {
        appendChild().container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        appendChild().unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder { appendChild() }
}

/// Writes a value that is not a container, or an `Optional`'s `nil`.
private struct LuaSingleValueWriter: SingleValueEncodingContainer {
    let encoder: LuaValueEncoding

    var codingPath: [any CodingKey] { encoder.codingPath }

    mutating func encodeNil() { encoder.setScalar(.nil) }

    mutating func encode(_ value: Bool) { encoder.setScalar(.boolean(value)) }
    mutating func encode(_ value: String) { encoder.setScalar(.string(value)) }
    mutating func encode(_ value: Double) { encoder.setScalar(.number(value)) }
    mutating func encode(_ value: Float) { encoder.setScalar(.number(Double(value))) }
    mutating func encode(_ value: Int) throws { try setInteger(value) }
    mutating func encode(_ value: Int8) throws { try setInteger(value) }
    mutating func encode(_ value: Int16) throws { try setInteger(value) }
    mutating func encode(_ value: Int32) throws { try setInteger(value) }
    mutating func encode(_ value: Int64) throws { try setInteger(value) }
    mutating func encode(_ value: Int128) throws { try setInteger(value) }
    mutating func encode(_ value: UInt) throws { try setInteger(value) }
    mutating func encode(_ value: UInt8) throws { try setInteger(value) }
    mutating func encode(_ value: UInt16) throws { try setInteger(value) }
    mutating func encode(_ value: UInt32) throws { try setInteger(value) }
    mutating func encode(_ value: UInt64) throws { try setInteger(value) }
    mutating func encode(_ value: UInt128) throws { try setInteger(value) }

    private func setInteger<T: BinaryInteger>(_ value: T) throws {
        encoder.setScalar(try encoder.luaInteger(value, at: codingPath))
    }

    mutating func encode<T: Encodable>(_ value: T) throws {
        // Encoding into this same draft: the value's own containers become this value.
        guard case .empty = encoder.draft.shape else {
            encoder.setScalar(.nil)  // records the misuse
            return
        }
        try value.encode(to: encoder)
    }
}
