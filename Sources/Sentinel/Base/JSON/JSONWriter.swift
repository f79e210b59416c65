/// Writes ``JSONValue``s as JSON: keys sorted bytewise, strings escaped,
/// integers as integers, doubles in their shortest round-trip form.
///
/// The same value always gives the same bytes (the determinism `simulate`
/// relies on). Numbers JSON cannot hold are written as strings: NaN as
/// `"NaN"`, the infinities as `"Infinity"` and `"-Infinity"`, so an audit entry
/// that records a rejected NaN is still written. Read back, those stay strings.
///
/// ```swift
/// var writer = JSONWriter()
/// writer.write(["value": 1.0, "name": "checkout", "ratio": .double(.nan)])
/// writer.string   // {"name":"checkout","ratio":"NaN","value":1.0}
/// ```
///
/// The writer appends to ``bytes``; reuse one (``removeAll()``) to keep its
/// buffer when writing many values.
public struct JSONWriter: Sendable {
    /// How the output is laid out.
    public enum Style: Sendable, Hashable {
        /// No whitespace at all: one value per line is possible (JSON Lines).
        case compact
        /// One member or element per line, indented by two spaces, `": "`
        /// between key and value: for files people read and diff.
        case pretty
    }

    /// The layout in use.
    public let style: Style
    /// The UTF-8 output so far.
    public private(set) var bytes: [UInt8]

    /// Makes an empty writer.
    ///
    /// - Parameters:
    ///   - style: compact (the default) or pretty.
    ///   - capacity: bytes to reserve up front.
    public init(style: Style = .compact, capacity: Int = 256) {
        self.style = style
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// The output so far as a string.
    public var string: String { String(decoding: bytes, as: UTF8.self) }

    /// Forgets the output but keeps the buffer's capacity.
    public mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
    }

    /// Appends one value.
    public mutating func write(_ value: JSONValue) {
        write(value, depth: 0)
    }

    // MARK: - Pieces (used by the audit encoder, which writes its keys in a fixed order)

    /// Appends bytes that are already JSON (punctuation, a key with its quotes).
    mutating func writeRaw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Lets a formatter that writes bytes itself (timestamps) append to the output.
    mutating func appendBytes(_ body: (inout [UInt8]) -> Void) {
        body(&bytes)
    }

    private mutating func write(_ value: JSONValue, depth: Int) {
        switch value {
        case .null: writeRaw("null")
        case .bool(let flag): flag ? writeRaw("true") : writeRaw("false")
        case .int(let number): writeInteger(number)
        case .double(let number): writeDouble(number)
        case .string(let text): writeString(text)
        case .array(let elements): writeArray(elements, depth: depth)
        case .object(let members): writeObject(members, depth: depth)
        }
    }

    private mutating func writeArray(_ elements: [JSONValue], depth: Int) {
        guard !elements.isEmpty else { return writeRaw("[]") }
        bytes.append(UInt8(ascii: "["))
        for (index, element) in elements.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            newline(depth: depth + 1)
            write(element, depth: depth + 1)
        }
        newline(depth: depth)
        bytes.append(UInt8(ascii: "]"))
    }

    private mutating func writeObject(_ members: [String: JSONValue], depth: Int) {
        guard !members.isEmpty else { return writeRaw("{}") }
        bytes.append(UInt8(ascii: "{"))
        // Sorted bytewise rather than with `String.<`, which orders by Unicode
        // canonical equivalence: bytes are what other tools compare. Sorting the
        // pairs (not the keys) saves hashing every key again for its value.
        var first = true
        for (key, value) in members.count == 1 ? Array(members) : members.sorted(by: { JSONWriter.bytewiseLess($0.key, $1.key) }) {
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            newline(depth: depth + 1)
            writeString(key)
            if style == .pretty { writeRaw(": ") } else { bytes.append(UInt8(ascii: ":")) }
            write(value, depth: depth + 1)
        }
        newline(depth: depth)
        bytes.append(UInt8(ascii: "}"))
    }

    private mutating func newline(depth: Int) {
        guard style == .pretty else { return }
        bytes.append(UInt8(ascii: "\n"))
        bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: depth * 2))
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }

    /// True when `lhs` sorts before `rhs` by their UTF-8 bytes.
    static func bytewiseLess(_ lhs: String, _ rhs: String) -> Bool {
        // Native strings are contiguous UTF-8; the fallback covers bridged ones.
        let fast = lhs.utf8.withContiguousStorageIfAvailable { left in
            rhs.utf8.withContiguousStorageIfAvailable { right in
                let common = min(left.count, right.count)
                for index in 0..<common where left[index] != right[index] {
                    return left[index] < right[index]
                }
                return left.count < right.count
            }
        }
        if let result = fast ?? nil { return result }
        return lhs.utf8.lexicographicallyPrecedes(rhs.utf8)
    }

    // MARK: - Scalars

    /// Appends an integer in decimal.
    mutating func writeInteger(_ number: Int64) {
        if number < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = number.magnitude
        // Twenty digits hold UInt64.max; fill from the right, then copy.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var start = 20
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: digits[start..<20]))
        }
    }

    /// Appends a double in its shortest round-trip form, or one of the
    /// strings `"NaN"`, `"Infinity"`, `"-Infinity"`.
    mutating func writeDouble(_ number: Double) {
        if number.isNaN { return writeRaw("\"NaN\"") }
        if number.isInfinite { return number < 0 ? writeRaw("\"-Infinity\"") : writeRaw("\"Infinity\"") }
        // Swift's `description` is the shortest text that reads back as the same
        // double, always with a fraction or an exponent (`1.0`, `1e-07`,
        // `1e+300`), and every such form is a valid JSON number (RFC 8259 §6).
        var text = number.description
        var needsFraction = true
        text.withUTF8 { utf8 in
            for byte in utf8 where byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
                needsFraction = false
                break
            }
            bytes.append(contentsOf: utf8)
        }
        // Guards the contract "a double reads back as a double" should the
        // formatting ever drop the fraction.
        if needsFraction { writeRaw(".0") }
    }

    /// Appends a string with quotes, escaping `"`, `\` and control characters;
    /// everything else (including non-ASCII) passes through as UTF-8.
    mutating func writeString(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        let done: Void? = text.utf8.withContiguousStorageIfAvailable { appendEscaped($0) }
        if done == nil {
            // A bridged string without contiguous UTF-8: copy it once.
            Array(text.utf8).withUnsafeBufferPointer { appendEscaped($0) }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func appendEscaped(_ utf8: UnsafeBufferPointer<UInt8>) {
        var runStart = 0
        for index in 0..<utf8.count {
            let byte = utf8[index]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            if runStart < index { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index])) }
            runStart = index + 1
            appendEscape(byte)
        }
        if runStart < utf8.count { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...])) }
    }

    private mutating func appendEscape(_ byte: UInt8) {
        switch byte {
        case UInt8(ascii: "\""): writeRaw("\\\"")
        case UInt8(ascii: "\\"): writeRaw("\\\\")
        case 0x0A: writeRaw("\\n")
        case 0x0D: writeRaw("\\r")
        case 0x09: writeRaw("\\t")
        case 0x08: writeRaw("\\b")
        case 0x0C: writeRaw("\\f")
        default:
            writeRaw("\\u00")
            bytes.append(JSONWriter.hexDigit(byte >> 4))
            bytes.append(JSONWriter.hexDigit(byte & 0x0F))
        }
    }
}
