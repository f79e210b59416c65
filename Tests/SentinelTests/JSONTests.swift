import Testing

@testable import Sentinel

@Suite struct JSONTests {
    // MARK: - Writing

    @Test func keysAreSortedBytewiseAtEveryLevel() {
        let value: JSONValue = [
            "b": 1, "a": 2, "B": 3, "é": 4, "aa": 5, "a_b": 6,
            "nested": ["z": true, "m": ["y": nil, "x": "deep"]],
        ]
        #expect(
            value.jsonString()
                == #"{"B":3,"a":2,"a_b":6,"aa":5,"b":1,"nested":{"m":{"x":"deep","y":null},"z":true},"é":4}"#)
    }

    @Test func sameValueGivesSameBytes() {
        var members: [String: JSONValue] = [:]
        for index in 0..<200 { members["key\(index)"] = .int(Int64(index)) }
        let first = JSONValue.object(members).jsonString()
        // A dictionary built in the opposite order iterates differently; the output must not.
        var reversed: [String: JSONValue] = [:]
        for index in (0..<200).reversed() { reversed["key\(index)"] = .int(Int64(index)) }
        #expect(JSONValue.object(reversed).jsonString() == first)
    }

    @Test func escapesQuotesBackslashesAndControlCharacters() throws {
        let text = "a\"b\\c\n\r\t\u{8}\u{c}\u{1}\u{1f}\u{0}/"
        #expect(JSONValue.string(text).jsonString() == #""a\"b\\c\n\r\t\b\f\u0001\u001f\u0000/""#)
        #expect(try JSONValue(json: JSONValue.string(text).jsonString()) == .string(text))
    }

    @Test func nonASCIIPassesThroughAsUTF8() {
        let text = "héllo ✓ 🚀 \u{2028} 日本"
        #expect(JSONValue.string(text).jsonString() == "\"\(text)\"")
    }

    @Test(arguments: [
        (Int64(0), "0"), (42, "42"), (-7, "-7"), (.max, "9223372036854775807"), (.min, "-9223372036854775808"),
    ])
    func integersAreWrittenAsIntegers(value: Int64, text: String) throws {
        #expect(JSONValue.int(value).jsonString() == text)
        #expect(try JSONValue(json: text) == .int(value))
    }

    @Test(arguments: [
        (1.0, "1.0"), (-0.0, "-0.0"), (0.1, "0.1"), (2.5e-3, "0.0025"), (1e300, "1e+300"), (1e-7, "1e-07"),
        (Double.leastNonzeroMagnitude, "5e-324"), (123_456_789.125, "123456789.125"), (1e16, "1e+16"),
        (Double.greatestFiniteMagnitude, "1.7976931348623157e+308"),
    ])
    func doublesAreShortestAndReadBackAsDoubles(value: Double, text: String) throws {
        #expect(JSONValue.double(value).jsonString() == text)
        let parsed = try JSONValue(json: text)
        guard case .double(let back) = parsed else {
            Issue.record("\(text) read back as \(parsed), not a double")
            return
        }
        #expect(back.bitPattern == value.bitPattern)
    }

    @Test func nanAndInfinitiesAreWrittenAsStringsAndStayStrings() throws {
        let value: JSONValue = ["nan": .double(.nan), "up": .double(.infinity), "down": .double(-.infinity)]
        let text = value.jsonString()
        #expect(text == #"{"down":"-Infinity","nan":"NaN","up":"Infinity"}"#)
        #expect(try JSONValue(json: text) == ["nan": "NaN", "up": "Infinity", "down": "-Infinity"])
    }

    @Test func prettyStyleWritesOneMemberPerLine() {
        let value: JSONValue = ["b": [1, 2], "a": ["x": "y"], "e": [:], "f": []]
        let expected = """
            {
              "a": {
                "x": "y"
              },
              "b": [
                1,
                2
              ],
              "e": {},
              "f": []
            }
            """
        #expect(value.jsonString(style: .pretty) == expected)
    }

    @Test func emptyContainersAreCompact() {
        #expect(JSONValue.object([:]).jsonString() == "{}")
        #expect(JSONValue.array([]).jsonString() == "[]")
        #expect(JSONValue.array([[], [:]]).jsonString() == "[[],{}]")
    }

    // MARK: - Parsing

    @Test(arguments: [
        ("42", JSONValue.int(42)), ("-0", .int(0)), ("-9223372036854775808", .int(.min)),
        ("9223372036854775808", .double(9_223_372_036_854_775_808)), ("1.0", .double(1)), ("1e2", .double(100)),
        ("-2.5E-1", .double(-0.25)), ("0", .int(0)), ("1E+2", .double(100)),
    ])
    func numbersBecomeIntegersOnlyWithoutFractionOrExponent(text: String, expected: JSONValue) throws {
        #expect(try JSONValue(json: text) == expected)
    }

    @Test func parsesEveryKindOfValueWithWhitespace() throws {
        let text = " {\n\t\"a\" : [ true , false , null ] ,\r\n \"b\" : { \"c\" : \"d\" } , \"e\" : -1.5 } \n"
        #expect(try JSONValue(json: text) == ["a": [true, false, nil], "b": ["c": "d"], "e": -1.5])
    }

    @Test func unicodeEscapesDecodeIncludingSurrogatePairs() throws {
        #expect(try JSONValue(json: #""\u00e9\ud83d\ude80\n\/\u0041""#) == .string("é🚀\n/A"))
    }

    @Test func byteOrderMarkIsSkipped() throws {
        #expect(try JSONParser().parse([0xEF, 0xBB, 0xBF] + Array("[1]".utf8)) == [1])
    }

    @Test(arguments: [
        (#"{"a": 1,}"#, JSONParseError.Code.unexpectedCharacter, 1, 9),
        ("[1 2]", .unexpectedCharacter, 1, 4),
        ("01", .invalidNumber, 1, 1),
        ("1.e5", .invalidNumber, 1, 3),
        (".5", .unexpectedCharacter, 1, 1),
        ("-", .unexpectedEnd, 1, 2),
        ("NaN", .unexpectedCharacter, 1, 1),
        ("Infinity", .unexpectedCharacter, 1, 1),
        ("\"a\tb\"", .controlCharacterInString, 1, 3),
        (#""\x""#, .invalidEscape, 1, 2),
        (#""\ud800""#, .invalidEscape, 1, 2),
        (#""\udc00""#, .invalidEscape, 1, 2),
        (#""\u12g4""#, .invalidEscape, 1, 6),
        (#"{"a":1,"a":2}"#, .duplicateKey, 1, 8),
        ("1e999", .numberOutOfRange, 1, 1),
        ("[1] x", .trailingContent, 1, 5),
        ("{\"a\":\n  tru}", .unexpectedCharacter, 2, 6),
        ("", .unexpectedEnd, 1, 1),
        ("{\"a\": [1, 2", .unexpectedEnd, 1, 12),
        ("\"open", .unexpectedEnd, 1, 6),
        ("// comment\n1", .unexpectedCharacter, 1, 1),
        ("{'a': 1}", .unexpectedCharacter, 1, 2),
        ("[\"é\", x]", .unexpectedCharacter, 1, 7),
    ])
    func malformedInputIsAnErrorWithLineAndColumn(text: String, code: JSONParseError.Code, line: Int, column: Int) {
        #expect {
            try JSONParser().parse(text)
        } throws: { error in
            guard let error = error as? JSONParseError else { return false }
            return error.code == code && error.line == line && error.column == column
                && error.description.hasPrefix("line \(line), column \(column): ")
        }
    }

    @Test(arguments: [
        [0x22, 0xC3, 0x28, 0x22] as [UInt8],  // a lead byte without its continuation
        [0x22, 0xC0, 0xAF, 0x22],  // an overlong '/'
        [0x22, 0xED, 0xA0, 0x80, 0x22],  // a UTF-16 surrogate encoded in UTF-8
        [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22],  // above U+10FFFF
        [0x22, 0x80, 0x22],  // a lone continuation byte
    ])
    func invalidUTF8IsAnError(bytes: [UInt8]) {
        #expect {
            try JSONParser().parse(bytes)
        } throws: { error in
            (error as? JSONParseError)?.code == .invalidUTF8 && (error as? JSONParseError)?.column == 2
        }
    }

    @Test func errorMessagesNameWhatWasExpectedAndFound() {
        #expect {
            try JSONParser().parse("{\"a\" 1}")
        } throws: { error in
            "\(error)" == "line 1, column 6: expected ':' after the key \"a\", found '1'"
        }
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        let text = String(repeating: "[", count: 100_000)
        #expect {
            try JSONParser().parse(text)
        } throws: { error in
            (error as? JSONParseError)?.code == .tooDeep
        }
        #expect(throws: Never.self) { try JSONParser(maximumDepth: 3).parse("[[[1]]]") }
    }

    @Test func randomValuesRoundTrip() throws {
        var random = JSONTestRandom(seed: 0x5EED)
        for _ in 0..<300 {
            let value = random.value(depth: 0)
            for style in [JSONWriter.Style.compact, .pretty] {
                #expect(try JSONValue(json: value.jsonString(style: style)) == value)
            }
        }
    }

    // MARK: - RFC 3339

    @Test(arguments: [
        (0.0, "1970-01-01T00:00:00.000Z"),
        (1_795_459_500.123, "2026-11-23T18:45:00.123Z"),
        (1_709_208_000, "2024-02-29T12:00:00.000Z"),  // a leap day
        (951_782_400, "2000-02-29T00:00:00.000Z"),  // divisible by 400: a leap year
        (-2_203_891_200, "1900-03-01T00:00:00.000Z"),  // divisible by 100: no February 29
        (4_107_542_400, "2100-03-01T00:00:00.000Z"),
        (946_684_799.999, "1999-12-31T23:59:59.999Z"),  // the last millisecond of a year
        (946_684_800, "2000-01-01T00:00:00.000Z"),
        (-1, "1969-12-31T23:59:59.000Z"),  // before the epoch
        (-0.001, "1969-12-31T23:59:59.999Z"),
        (-11_676_096_000, "1600-01-01T00:00:00.000Z"),
        (253_402_300_799.999, "9999-12-31T23:59:59.999Z"),
    ])
    func formatsCivilTimeInUTC(seconds: Double, text: String) {
        #expect(RFC3339.string(fromUnixSeconds: seconds) == text)
        #expect(RFC3339.unixSeconds(from: text) == seconds)
    }

    @Test(arguments: [
        (0.000_4, "1970-01-01T00:00:00.000Z"),
        (0.000_6, "1970-01-01T00:00:00.001Z"),
        (1.999_6, "1970-01-01T00:00:02.000Z"),
        (59.999_6, "1970-01-01T00:01:00.000Z"),
        (946_684_799.999_6, "2000-01-01T00:00:00.000Z"),  // rounding carries into a new year
        (1_709_251_199.999_7, "2024-03-01T00:00:00.000Z"),  // ... and out of a leap day
        (-0.000_6, "1969-12-31T23:59:59.999Z"),
    ])
    func millisecondsAreRoundedToNearest(seconds: Double, text: String) {
        #expect(RFC3339.string(fromUnixSeconds: seconds) == text)
    }

    @Test func timesOutsideFourDigitYearsAreClampedNotCrashing() {
        #expect(RFC3339.string(fromUnixSeconds: .nan) == "1970-01-01T00:00:00.000Z")
        #expect(RFC3339.string(fromUnixSeconds: .infinity) == "9999-12-31T23:59:59.999Z")
        #expect(RFC3339.string(fromUnixSeconds: -.infinity) == "0000-01-01T00:00:00.000Z")
        #expect(RFC3339.string(fromUnixSeconds: 1e300) == "9999-12-31T23:59:59.999Z")
    }

    @Test func everyDayOfFourHundredYearsRoundTrips() {
        // One Gregorian cycle covers every leap-year rule.
        let start = RFC3339.daysSinceEpoch(year: 1900, month: 1, day: 1)
        var expected = (year: Int64(1900), month: Int64(1), day: Int64(1))
        var firstMismatch: String?
        for days in start..<start + 146_097 where firstMismatch == nil {
            let date = RFC3339.civilDate(daysSinceEpoch: days)
            let back = RFC3339.daysSinceEpoch(year: date.year, month: date.month, day: date.day)
            if date != expected || back != days {
                firstMismatch = "day \(days): got \(date), expected \(expected), back to \(back)"
            }
            expected = Self.nextDay(after: expected)
        }
        #expect(firstMismatch == nil)
        #expect(expected == (2300, 1, 1))
    }

    @Test func parsedMillisecondTimesEqualTheWrittenOnes() {
        var random = JSONTestRandom(seed: 7)
        for _ in 0..<2000 {
            let milliseconds = Int64(random.next() % 4_000_000_000_000) - 500_000_000_000
            let seconds = Double(milliseconds) / 1000
            let text = RFC3339.string(fromUnixSeconds: seconds)
            #expect(RFC3339.unixSeconds(from: text) == seconds, "\(text)")
        }
    }

    @Test func parsingAcceptsOffsetsAndRejectsImpossibleDates() {
        #expect(RFC3339.unixSeconds(from: "2026-11-23T19:45:00.123+01:00") == 1_795_459_500.123)
        #expect(RFC3339.unixSeconds(from: "2026-11-23t18:45:00z") == 1_795_459_500)
        #expect(RFC3339.unixSeconds(from: "2026-11-23T18:45:00.123456Z") == 1_795_459_500.123456)
        for bad in [
            "2026-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-11-23T18:45:00", "2026-11-23T18:45:00.Z",
            "2026-11-23T24:00:00Z", "2026-11-31T00:00:00Z", "26-11-23T18:45:00Z", "2026-11-23T18:45:00Zjunk", "",
        ] {
            #expect(RFC3339.unixSeconds(from: bad) == nil, "\(bad)")
        }
    }

    // MARK: - Helpers

    private static func nextDay(
        after date: (year: Int64, month: Int64, day: Int64)
    ) -> (
        year: Int64, month: Int64, day: Int64
    ) {
        let leap = (date.year % 4 == 0 && date.year % 100 != 0) || date.year % 400 == 0
        let lengths: [Int64] = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        if date.day < lengths[Int(date.month - 1)] { return (date.year, date.month, date.day + 1) }
        if date.month < 12 { return (date.year, date.month + 1, 1) }
        return (date.year + 1, 1, 1)
    }
}

/// SplitMix64: a seeded generator, so the "random" tests are the same every run.
struct JSONTestRandom {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }

    /// A random JSON-representable value (finite doubles only).
    mutating func value(depth: Int) -> JSONValue {
        switch next() % (depth < 3 ? 8 : 6) {
        case 0: return .null
        case 1: return .bool(next() % 2 == 0)
        case 2: return .int(Int64(bitPattern: next()) >> (next() % 64))
        case 3:
            let number = Double(bitPattern: next())
            return .double(number.isFinite ? number : Double(next() % 1000) / 7)
        case 4, 5: return .string(text())
        case 6: return .array((0..<Int(next() % 5)).map { _ in value(depth: depth + 1) })
        default:
            var members: [String: JSONValue] = [:]
            for _ in 0..<Int(next() % 5) { members[text()] = value(depth: depth + 1) }
            return .object(members)
        }
    }

    private mutating func text() -> String {
        let alphabet: [Unicode.Scalar] = ["a", "Z", "0", " ", "\"", "\\", "\n", "\u{1}", "\u{7f}", "é", "✓", "🚀", "\u{2028}"]
        var scalars = String.UnicodeScalarView()
        for _ in 0..<Int(next() % 12) { scalars.append(alphabet[Int(next() % UInt64(alphabet.count))]) }
        return String(scalars)
    }
}
