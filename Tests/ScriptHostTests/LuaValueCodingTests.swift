import ScriptHost
import Testing

// Tests for LuaValueDecoder and LuaValueEncoder. They use only LuaValue, so they
// need no Lua state.

// MARK: - Fixtures

private struct Param: Codable, Equatable {
    var value: Double
}

private struct ScriptResult: Codable, Equatable {
    var name: String
    var params: [Param]
}

private struct ParamsOnly: Codable, Equatable {
    var params: [Param]
}

/// A single field of any type, to check how one Lua value decodes into it.
private struct Field<Value: Codable & Equatable>: Codable, Equatable {
    var field: Value
}

/// Every kind of value the coders handle, for round trips.
private struct Sample: Codable, Equatable, Sendable {
    struct Inner: Codable, Equatable, Sendable {
        var label: String
        var weight: Double?
    }

    var flag: Bool
    var name: String
    var tiny: Int8
    var small: UInt16
    var count: Int
    var big: Int64
    var unsigned: UInt64
    var ratio: Double
    var single: Float
    var tags: [String]
    var matrix: [[Int]]
    var limits: [String: Int]
    var note: String?
    var inner: Inner?
    var sparse: [Int?]
}

private enum Color: String, Codable {
    case red, green
}

/// Rejects itself in `init(from:)`, as validating types do.
private struct PositiveWindow: Codable, Equatable {
    struct NotPositive: Error, CustomStringConvertible {
        var description: String { "window must be positive" }
    }

    var seconds: Int

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        seconds = try container.decode(Int.self)
        guard seconds > 0 else { throw NotPositive() }
    }
}

/// Reads exactly two elements, like a tuple.
private struct Pair: Decodable {
    var first: Int
    var second: Int

    init(from decoder: any Decoder) throws {
        var container = try decoder.unkeyedContainer()
        first = try container.decode(Int.self)
        second = try container.decode(Int.self)
    }
}

private func decodingError<T: Decodable>(
    _ type: T.Type, from value: LuaValue, rootName: String = "result"
) -> LuaDecodingError? {
    do {
        _ = try LuaValueDecoder().decode(type, from: value, rootName: rootName)
        return nil
    } catch {
        return error
    }
}

private func roundTrip<T: Codable>(_ value: T) throws -> T {
    try LuaValueDecoder().decode(T.self, from: LuaValueEncoder().encode(value))
}

/// One Lua value decoded as one Swift type, and the message it must produce.
private struct MismatchCase: Sendable, CustomTestStringConvertible {
    let value: LuaValue
    let swiftType: String
    let message: String
    let decode: @Sendable (LuaValue) -> LuaDecodingError?

    init<T: Codable & Equatable & SendableMetatype>(_ value: LuaValue, as type: T.Type, _ message: String) {
        self.value = value
        self.swiftType = "\(T.self)"
        self.message = message
        self.decode = { decodingError(Field<T>.self, from: ["field": $0]) }
    }

    var testDescription: String { "\(value) as \(swiftType)" }
}


/// A number that does not fit the Swift type it is decoded into.
private struct OutOfRangeCase: Sendable, CustomTestStringConvertible {
    let value: LuaValue
    let message: String
    let decode: @Sendable (LuaValue) -> LuaDecodingError?

    init<T: Codable & Equatable & SendableMetatype>(_ value: LuaValue, as type: T.Type, _ message: String) {
        self.value = value
        self.message = message
        self.decode = { decodingError(Field<T>.self, from: ["field": $0]) }
    }

    var testDescription: String { message }
}


/// Accepts any value, to see which keys a keyed container offers.
private struct AnyLuaValue: Decodable {
    init(from decoder: any Decoder) throws {}
}


extension CodingUserInfoKey {
    fileprivate static let scale = CodingUserInfoKey(rawValue: "scale")!
}

/// Scaled by `userInfo[.scale]` on the way in and out, to show that userInfo arrives.
private struct Scaled: Codable, Equatable {
    var value: Int

    init(value: Int) { self.value = value }

    init(from decoder: any Decoder) throws {
        let scale = decoder.userInfo[.scale] as? Int ?? 1
        value = try decoder.singleValueContainer().decode(Int.self) * scale
    }

    func encode(to encoder: any Encoder) throws {
        let scale = encoder.userInfo[.scale] as? Int ?? 1
        var container = encoder.singleValueContainer()
        try container.encode(value / scale)
    }
}

/// A coding key made from any name.
private struct NameKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}


/// Values covering every kind of field, for round trips.
private let samples: [Sample] = [
    Sample(
        flag: true, name: "checkout", tiny: -128, small: 65535, count: 42, big: .max, unsigned: 0,
        ratio: 0.1, single: 0.1, tags: ["a", "b"], matrix: [[1, 2], [], [3]],
        limits: ["deploy": 1, "my pipeline": 2], note: "hi", inner: .init(label: "x", weight: 2.5),
        sparse: [1, nil, 3]),
    Sample(
        flag: false, name: "", tiny: 0, small: 0, count: -1, big: .min, unsigned: UInt64(Int64.max),
        ratio: -1e300, single: .greatestFiniteMagnitude, tags: [], matrix: [], limits: [:], note: nil,
        inner: .init(label: "", weight: nil), sparse: []),
    Sample(
        flag: true, name: "\u{1F600}", tiny: 127, small: 1, count: .min, big: 0, unsigned: 12,
        ratio: 3.0, single: -0.0, tags: ["only"], matrix: [[]], limits: ["": 0], note: "", inner: nil,
        sparse: [nil, 2]),
]

/// Behaviour of LuaValueDecoder and LuaValueEncoder, one test per rule.
struct LuaValueCodingTests {
    // MARK: - Error paths and messages

    @Test func errorPathNamesFieldsAndOneBasedIndices() throws {
        let returned: LuaValue = ["params": [["value": 1], ["value": "x"]]]
        let error = try #require(decodingError(ParamsOnly.self, from: returned))
        #expect(error.path == "result.params[2].value")
        #expect(error.message == "expected number, got string")
        #expect(error.description == "result.params[2].value: expected number, got string")
    }

    @Test func errorDescriptionIsPathColonMessage() {
        let error = LuaDecodingError(path: "result.window", message: "must be positive")
        #expect(error.description == "result.window: must be positive")
        #expect("\(error)" == "result.window: must be positive")
    }

    @Test func rootNameDefaultsToValue() {
        #expect(
            decodingError(Int.self, from: "x", rootName: "value")?.description
                == "value: expected number, got string")
        #expect(throws: LuaDecodingError(path: "value", message: "expected number, got string")) {
            try LuaValueDecoder().decode(Int.self, from: "x")
        }
    }

    @Test func missingRequiredFieldIsReportedAtItsPath() {
        let error = decodingError(ScriptResult.self, from: ["params": []])
        #expect(error == LuaDecodingError(path: "result.name", message: "missing field"))
    }

    @Test func nilFieldCountsAsMissing() {
        // Lua cannot hold nil in a table, but a table built in Swift can.
        let returned = LuaValue.table([.string("name"): .nil, .string("params"): [:]])
        #expect(decodingError(ScriptResult.self, from: returned)?.description == "result.name: missing field")
    }

    @Test func missingFieldDeepInsideArraysAndDictionaries() {
        struct Step: Decodable { var name: String }
        struct Job: Decodable { var steps: [Step] }
        struct Pipeline: Decodable { var jobs: [String: Job] }

        let returned: LuaValue = ["jobs": ["build": ["steps": [["name": "a"], ["name": "b"], ["run": "c"]]]]]
        #expect(
            decodingError(Pipeline.self, from: returned)?.description
                == "result.jobs.build.steps[3].name: missing field")
    }

    @Test func wrongContainerTypeIsReportedWithLuaTypeNames() {
        #expect(
            decodingError(ParamsOnly.self, from: ["params": 5])?.description
                == "result.params: expected table, got number")
        #expect(
            decodingError(ParamsOnly.self, from: ["params": ["oops"]])?.description
                == "result.params[1]: expected table, got string")
        #expect(decodingError(ParamsOnly.self, from: true)?.description == "result: expected table, got boolean")
        #expect(decodingError([Int].self, from: .nil)?.description == "result: expected table, got nil")
    }
    @Test(arguments: [
        MismatchCase(1, as: Bool.self, "expected boolean, got number"),
        MismatchCase(0, as: Bool.self, "expected boolean, got number"),
        MismatchCase("true", as: Bool.self, "expected boolean, got string"),
        MismatchCase(1, as: String.self, "expected string, got number"),
        MismatchCase(false, as: String.self, "expected string, got boolean"),
        MismatchCase("1", as: Double.self, "expected number, got string"),
        MismatchCase("1", as: Int.self, "expected number, got string"),
        MismatchCase(true, as: Int.self, "expected number, got boolean"),
        MismatchCase([1], as: Int.self, "expected number, got table"),
        MismatchCase(.bytes([0xFF]), as: Int.self, "expected number, got string"),
        MismatchCase(7, as: [Int].self, "expected table, got number"),
        MismatchCase("a", as: [String: Int].self, "expected table, got string"),
    ])
    private func scalarTypeMismatchUsesLuaTypeNames(_ mismatch: MismatchCase) {
        #expect(mismatch.decode(mismatch.value) == LuaDecodingError(path: "result.field", message: mismatch.message))
    }

    @Test func nilWhereAValueIsRequiredSaysGotNil() {
        #expect(decodingError(Int.self, from: .nil)?.description == "result: expected number, got nil")
        #expect(decodingError(Bool.self, from: .nil)?.description == "result: expected boolean, got nil")
    }

    @Test func keysThatAreNotIdentifiersAreQuotedInPaths() {
        let limits: LuaValue = ["checkout": 1, "my pipeline": "x", "a.b": 2, "say \"hi\"": 3, "2nd": 4]
        let byName = decodingError([String: Int].self, from: limits)
        #expect(byName?.description == #"result["my pipeline"]: expected number, got string"#)

        #expect(decodingError([String: Bool].self, from: ["a.b": 1])?.path == #"result["a.b"]"#)
        #expect(decodingError([String: Bool].self, from: ["say \"hi\"": 1])?.path == #"result["say \"hi\""]"#)
        #expect(decodingError([String: Bool].self, from: ["2nd": 1])?.path == #"result["2nd"]"#)
        #expect(decodingError([String: Bool].self, from: ["_private2": 1])?.path == "result._private2")
    }

    @Test func errorsThrownByInitFromAreReportedAtTheirPath() {
        #expect(
            decodingError(Field<PositiveWindow>.self, from: ["field": 0])?.description
                == "result.field: window must be positive")
        #expect(
            decodingError([Field<PositiveWindow>].self, from: [["field": 5], ["field": -1]])?.description
                == "result[2].field: window must be positive")
    }

    @Test func dataCorruptedErrorFromInitFromNamesTheKey() {
        struct Limits: Decodable {
            enum CodingKeys: String, CodingKey { case retries }
            var retries: Int
            init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: CodingKeys.self)
                retries = try container.decode(Int.self, forKey: .retries)
                guard retries <= 10 else {
                    throw DecodingError.dataCorruptedError(
                        forKey: .retries, in: container, debugDescription: "at most 10 retries")
                }
            }
        }
        #expect(
            decodingError([Limits].self, from: [["retries": 1], ["retries": 11]])?.description
                == "result[2].retries: at most 10 retries")
    }

    @Test func invalidRawValueIsReportedAtItsPath() throws {
        let error = try #require(decodingError(Field<Color>.self, from: ["field": "purple"]))
        #expect(error.path == "result.field")
        #expect(error.message.contains("purple"))
    }

    @Test func readingPastTheEndOfASequenceReadsNil() throws {
        #expect(decodingError(Pair.self, from: [1])?.description == "result[2]: expected number, got nil")
        let pair = try LuaValueDecoder().decode(Pair.self, from: [1, 2])
        #expect(pair.first == 1 && pair.second == 2)
    }

    // MARK: - Numbers

    @Test(arguments: [3.0, -7.0, 0.0, -0.0, 1e15])
    func integralFloatsDecodeIntoIntegers(_ number: Double) throws {
        #expect(try LuaValueDecoder().decode(Int.self, from: .number(number)) == Int(number))
        #expect(try LuaValueDecoder().decode(Int64.self, from: .number(number)) == Int64(number))
    }

    @Test(arguments: [2.5, -0.1, 1e-300])
    func nonIntegralFloatIntoIntegerIsAnError(_ number: Double) {
        #expect(
            decodingError(Field<Int>.self, from: ["field": .number(number)])
                == LuaDecodingError(path: "result.field", message: "expected integer, got \(number)"))
    }

    @Test func integersDecodeIntoFloatingTypes() throws {
        #expect(try LuaValueDecoder().decode(Double.self, from: 3) == 3.0)
        #expect(try LuaValueDecoder().decode(Float.self, from: -12) == -12.0)
        #expect(try LuaValueDecoder().decode(Double.self, from: .integer(Int64.max)) == 0x1p63)
    }
    @Test(arguments: [
        OutOfRangeCase(300, as: UInt8.self, "300 is out of range for UInt8"),
        OutOfRangeCase(-129, as: Int8.self, "-129 is out of range for Int8"),
        OutOfRangeCase(-1, as: UInt.self, "-1 is out of range for UInt"),
        OutOfRangeCase(-1, as: UInt64.self, "-1 is out of range for UInt64"),
        OutOfRangeCase(.integer(Int64.max), as: Int32.self, "9223372036854775807 is out of range for Int32"),
        OutOfRangeCase(.number(1e20), as: Int64.self, "1e+20 is out of range for Int64"),
        OutOfRangeCase(.number(70000), as: UInt16.self, "70000.0 is out of range for UInt16"),
        OutOfRangeCase(.number(1e300), as: Float.self, "1e+300 is out of range for Float"),
    ])
    private func outOfRangeNumbersAreErrorsNamingTheField(_ outOfRange: OutOfRangeCase) {
        #expect(
            outOfRange.decode(outOfRange.value) == LuaDecodingError(path: "result.field", message: outOfRange.message))
    }

    @Test func nanAndInfinityDecodeIntoFloatingTypes() throws {
        let decoder = LuaValueDecoder()
        #expect(try decoder.decode(Double.self, from: .number(.nan)).isNaN)
        #expect(try decoder.decode(Float.self, from: .number(.nan)).isNaN)
        #expect(try decoder.decode(Double.self, from: .number(.infinity)) == .infinity)
        #expect(try decoder.decode(Float.self, from: .number(-.infinity)) == -.infinity)
    }

    @Test(arguments: [(Double.nan, "nan"), (.infinity, "inf"), (-.infinity, "-inf")])
    func nanAndInfinityDoNotDecodeIntoIntegers(_ number: Double, spelled: String) {
        #expect(
            decodingError(Field<Int>.self, from: ["field": .number(number)])
                == LuaDecodingError(path: "result.field", message: "expected integer, got \(spelled)"))
    }

    @Test func nanAndInfinityEncodeAsNumbers() throws {
        let encoded = try LuaValueEncoder().encode([Double.nan, .infinity])
        let first = try #require(encoded[1].doubleValue)
        #expect(first.isNaN)
        #expect(encoded[2] == .number(.infinity))
    }

    @Test func hugeIntegersRoundTripExactly() throws {
        #expect(try roundTrip(Int64.max) == Int64.max)
        #expect(try roundTrip(Int64.min) == Int64.min)
        #expect(try roundTrip(UInt64(Int64.max)) == UInt64(Int64.max))
        #expect(try roundTrip(Int128(Int64.min)) == Int128(Int64.min))
        #expect(try LuaValueEncoder().encode(Int64.max) == .integer(Int64.max))
    }

    @Test func floatAboveInt64DecodesIntoUInt64WhenExact() throws {
        #expect(try LuaValueDecoder().decode(UInt64.self, from: .number(0x1p63)) == 1 << 63)
    }

    @Test func encodingIntegerAboveInt64ThrowsNamingThePath() throws {
        struct Counters: Encodable { var counters: [UInt64] }

        let thrown = #expect(throws: EncodingError.self) {
            try LuaValueEncoder().encode(Counters(counters: [1, .max]), rootName: "args")
        }
        guard case .invalidValue(_, let context) = try #require(thrown) else { return }
        #expect(
            context.debugDescription
                == "args.counters[2]: 18446744073709551615 is out of range for a Lua integer (Int64)")
        #expect(context.codingPath.map(\.stringValue) == ["counters", "2"])
    }

    @Test func encodingIntegerAboveInt64ThrowsForFieldsAndRootValues() throws {
        struct Total: Encodable { var total: UInt }

        let field = #expect(throws: EncodingError.self) { try LuaValueEncoder().encode(Total(total: .max)) }
        guard case .invalidValue(_, let fieldContext) = try #require(field) else { return }
        #expect(fieldContext.debugDescription.hasPrefix("value.total: "))

        let root = #expect(throws: EncodingError.self) { try LuaValueEncoder().encode(UInt128(1) << 64) }
        guard case .invalidValue(_, let rootContext) = try #require(root) else { return }
        #expect(rootContext.debugDescription == "value: 18446744073709551616 is out of range for a Lua integer (Int64)")
    }

    // MARK: - Strings

    @Test func nonUTF8BytesDoNotDecodeAsString() {
        let returned: LuaValue = ["name": .bytes([0x66, 0xFF, 0xFE]), "params": []]
        #expect(decodingError(ScriptResult.self, from: returned)?.description == "result.name: not valid UTF-8")
        #expect(decodingError(String?.self, from: .bytes([0xC0]))?.description == "result: not valid UTF-8")
    }

    @Test func stringsDecodeAndEncodeUnchanged() throws {
        #expect(try roundTrip("caf\u{E9} \u{1F600}") == "caf\u{E9} \u{1F600}")
        #expect(try LuaValueEncoder().encode("") == .string(""))
    }

    // MARK: - Optionals

    @Test func optionalFieldsAreNilWhenMissingOrNil() throws {
        struct Options: Decodable { var timeout: Double?; var label: String? }

        let missing = try LuaValueDecoder().decode(Options.self, from: [:])
        #expect(missing.timeout == nil && missing.label == nil)

        let explicitNil = try LuaValueDecoder().decode(
            Options.self, from: .table([.string("timeout"): .nil, .string("label"): "x"]))
        #expect(explicitNil.timeout == nil)
        #expect(explicitNil.label == "x")
    }

    @Test func missingFieldOfGenericOptionalTypeDecodesAsNil() throws {
        // Synthesized code decodes a property of generic type with decode, not decodeIfPresent.
        #expect(try LuaValueDecoder().decode(Field<Int?>.self, from: [:]) == Field(field: nil))
        #expect(decodingError(Field<Int>.self, from: [:])?.description == "result.field: missing field")
    }

    @Test func optionalFieldWithWrongTypeIsStillAnError() {
        #expect(
            decodingError(Field<Int?>.self, from: ["field": "3"])?.description
                == "result.field: expected number, got string")
    }

    @Test func nestedOptionalsRoundTripExceptSomeNil() throws {
        #expect(try roundTrip(Field<Int??>(field: .some(.some(5)))) == Field(field: .some(.some(5))))
        #expect(try roundTrip(Field<Int??>(field: nil)) == Field(field: nil))
        // Lua has one nil, so the inner nil cannot survive the trip.
        #expect(try roundTrip(Field<Int??>(field: .some(nil))) == Field(field: nil))
        #expect(try LuaValueEncoder().encode(Field<Int??>(field: .some(nil))) == [:])
    }

    @Test func rootNilDecodesAsNilOptional() throws {
        #expect(try LuaValueDecoder().decode(Int?.self, from: .nil) == nil)
        #expect(try LuaValueDecoder().decode(Int?.self, from: 4) == 4)
    }

    // MARK: - Arrays

    @Test func emptyTableDecodesAsEmptyArray() throws {
        #expect(try LuaValueDecoder().decode([Int].self, from: [:]) == [])
        #expect(try LuaValueDecoder().decode([[String]].self, from: [[], []]) == [[], []])
        #expect(try LuaValueDecoder().decode(ParamsOnly.self, from: ["params": [:]]) == ParamsOnly(params: []))
        #expect(try LuaValueDecoder().decode([String: Int].self, from: [:]) == [:])
    }

    @Test func emptyArrayEncodesAsEmptyTable() throws {
        #expect(try LuaValueEncoder().encode([Int]()) == .table([:]))
        #expect(try LuaValueEncoder().encode(ParamsOnly(params: [])) == ["params": [:]])
    }

    @Test func holesDecodeAsNilIntoOptionalElements() throws {
        let withHole = LuaValue.table([1: 10, 3: 30])
        #expect(try LuaValueDecoder().decode([Int?].self, from: withHole) == [10, nil, 30])
    }

    @Test func holeInNonOptionalArrayIsReportedAtItsIndex() {
        let withHole = LuaValue.table([1: 10, 3: 30])
        #expect(decodingError([Int].self, from: withHole)?.description == "result[2]: expected number, got nil")
    }

    @Test func smallSparseTablesAreAccepted() throws {
        #expect(try LuaValueDecoder().decode([Int?].self, from: .table([5: 1])) == [nil, nil, nil, nil, 1])
    }

    @Test func mostlyEmptySparseTableIsRefused() {
        let sparse = LuaValue.table([1: 1, 1_000_000: 2])
        #expect(
            decodingError(Field<[Int?]>.self, from: ["field": sparse])?.path == "result.field")
        #expect(
            decodingError([Int?].self, from: sparse)?.description
                == "result: expected sequence, got sparse table (largest index 1000000, 2 elements)")
    }

    @Test func sequencesIgnoreKeysOutsideOneToN() throws {
        let packed = LuaValue.table([1: "a", 2: "b", "n": 2, 0: "zero", -1: "minus", .number(1.5): "half"])
        #expect(try LuaValueDecoder().decode([String].self, from: packed) == ["a", "b"])
    }

    @Test func unnormalizedFloatKeysCountAsIndices() throws {
        let table = LuaValue.table([.number(1): "a", .number(2): "b"])
        #expect(try LuaValueDecoder().decode([String].self, from: table) == ["a", "b"])
    }

    @Test func nilElementsEncodeAsHolesAndReadBack() throws {
        let encoded = try LuaValueEncoder().encode([1, nil, 3] as [Int?])
        #expect(encoded == .table([1: 1, 3: 3]))
        #expect(try LuaValueDecoder().decode([Int?].self, from: encoded) == [1, nil, 3])
        // Lua has no length past the last non-nil element, so trailing nils are lost.
        #expect(try roundTrip([1, nil] as [Int?]) == [1])
    }

    // MARK: - Tables with string keys

    @Test func dictionaryDecodesFromStringKeys() throws {
        let limits: LuaValue = ["checkout": 3, "deploy": 1]
        #expect(try LuaValueDecoder().decode([String: Int].self, from: limits) == ["checkout": 3, "deploy": 1])
        #expect(
            decodingError([String: Int].self, from: ["checkout": 3, "deploy": "one"])?.description
                == "result.deploy: expected number, got string")
    }

    @Test func structsIgnoreUndeclaredAndNonStringKeys() throws {
        let returned = LuaValue.table([
            "value": 2, "extra": "ignored", 1: "array part", .boolean(true): "odd key",
        ])
        #expect(try LuaValueDecoder().decode(Param.self, from: returned) == Param(value: 2))
        let keys = try LuaValueDecoder().decode([String: AnyLuaValue].self, from: returned).keys
        #expect(keys.sorted() == ["extra", "value"])
    }
    // MARK: - Encoding

    @Test func encoderMapsSwiftTypesToLuaTypes() throws {
        struct Call: Encodable {
            var pipeline = "checkout"
            var attempts = 3
            var small: UInt8 = 7
            var ratio = 0.5
            var single: Float = 1.5
            var dryRun = true
            var steps = ["lint", "test"]
            var note: String? = nil
        }

        let encoded = try LuaValueEncoder().encode(Call())
        #expect(
            encoded
                == .table([
                    "pipeline": .string("checkout"),
                    "attempts": .integer(3),
                    "small": .integer(7),
                    "ratio": .number(0.5),
                    "single": .number(1.5),
                    "dryRun": .boolean(true),
                    "steps": .table([1: "lint", 2: "test"]),
                ]))
    }

    @Test func valueThatEncodesNothingBecomesAnEmptyTable() throws {
        struct Silent: Encodable {
            func encode(to encoder: any Encoder) throws {}
        }
        #expect(try LuaValueEncoder().encode(Silent()) == [:])
        #expect(try LuaValueEncoder().encode(["quiet": Silent()]) == ["quiet": [:]])
    }

    @Test func intKeyedDictionaryUsesStringKeysBothWays() throws {
        let encoded = try LuaValueEncoder().encode([404: "retry"])
        #expect(encoded == .table([.string("404"): "retry"]))
        #expect(try LuaValueDecoder().decode([Int: String].self, from: encoded) == [404: "retry"])
        #expect(try LuaValueDecoder().decode([Int: String].self, from: .table([404: "retry"])) == [:])
    }

    @Test func explicitEncodeNilOmitsTheField() throws {
        struct Explicit: Encodable {
            enum CodingKeys: String, CodingKey { case present, absent }
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(1, forKey: .present)
                try container.encodeNil(forKey: .absent)
            }
        }
        #expect(try LuaValueEncoder().encode(Explicit()) == ["present": 1])
        #expect(try LuaValueEncoder().encode(Int?.none) == .nil)
    }

    @Test func encoderReportsConflictingContainers() throws {
        struct Confused: Encodable {
            func encode(to encoder: any Encoder) throws {
                _ = encoder.container(keyedBy: NameKey.self)
                _ = encoder.unkeyedContainer()
            }
        }
        struct Holder: Encodable { var inner = Confused() }

        let thrown = #expect(throws: EncodingError.self) { try LuaValueEncoder().encode(Holder(), rootName: "args") }
        guard case .invalidValue(_, let context) = try #require(thrown) else { return }
        #expect(context.debugDescription.hasPrefix("args.inner: "))
    }
    @Test func userInfoReachesEncodeAndInitFrom() throws {
        #expect(try LuaValueDecoder(userInfo: [.scale: 10]).decode(Scaled.self, from: 4) == Scaled(value: 40))
        #expect(try LuaValueEncoder(userInfo: [.scale: 10]).encode(Scaled(value: 40)) == 4)
        #expect(try LuaValueDecoder().decode(Scaled.self, from: 4) == Scaled(value: 4))
    }

    // MARK: - Round trips
    @Test(arguments: samples)
    private func everyValueRoundTrips(_ sample: Sample) throws {
        #expect(try roundTrip(sample) == sample)
    }

    @Test func superclassDataRoundTripsUnderSuper() throws {
        class Base: Codable {
            var id = 0
        }
        final class Derived: Base {
            var extra = ""
            enum CodingKeys: String, CodingKey { case extra }
            override init() { super.init() }
            required init(from decoder: any Decoder) throws {
                extra = try decoder.container(keyedBy: CodingKeys.self).decode(String.self, forKey: .extra)
                try super.init(from: decoder.container(keyedBy: CodingKeys.self).superDecoder())
            }
            override func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(extra, forKey: .extra)
                try super.encode(to: container.superEncoder())
            }
        }

        let original = Derived()
        original.id = 7
        original.extra = "more"
        let encoded = try LuaValueEncoder().encode(original)
        #expect(encoded == ["extra": "more", "super": ["id": 7]])
        let decoded = try LuaValueDecoder().decode(Derived.self, from: encoded)
        #expect(decoded.id == 7 && decoded.extra == "more")
    }
}
