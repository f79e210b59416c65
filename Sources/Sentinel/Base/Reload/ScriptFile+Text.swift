/// Where the first byte that is not UTF-8 stands in a file: `line:column`
/// (1-based, the column counted in bytes).
public struct InvalidUTF8: Error, Sendable, Hashable, CustomStringConvertible {
    /// 1-based line of the first invalid byte.
    public var line: Int
    /// 1-based byte column on that line.
    public var column: Int
    /// The byte itself.
    public var byte: UInt8

    /// `not valid UTF-8 (byte 0xff at column 22)`, without the file and line.
    public var description: String {
        "not valid UTF-8 (byte 0x\(String(byte, radix: 16)) at column \(column))"
    }
}

extension ScriptFile {
    /// The contents as text, or where the first byte that is not UTF-8 stands.
    public var text: Result<String, InvalidUTF8> { Self.decode(contents) }

    /// Decodes `bytes` as UTF-8 (well-formed as the Unicode standard's table
    /// 3-7 defines it: no overlong forms, no surrogates, nothing past U+10FFFF),
    /// or says where the first byte that is not stands.
    public static func decode(_ bytes: [UInt8]) -> Result<String, InvalidUTF8> {
        if let text = String(validating: bytes, as: UTF8.self) { return .success(text) }
        var line = 1
        var lineStart = 0
        var index = 0
        func invalid(at position: Int) -> Result<String, InvalidUTF8> {
            .failure(InvalidUTF8(line: line, column: position - lineStart + 1, byte: bytes[position]))
        }
        while index < bytes.count {
            let lead = bytes[index]
            if lead == UInt8(ascii: "\n") {
                line += 1
                lineStart = index + 1
                index += 1
                continue
            }
            let length: Int
            var low: UInt8 = 0x80, high: UInt8 = 0xBF
            switch lead {
            case 0x00...0x7F: length = 1
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; high = 0x9F
            case 0xF0: length = 4; low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; high = 0x8F
            default: return invalid(at: index)
            }
            for offset in 1..<max(length, 1) {
                let position = index + offset
                guard position < bytes.count else { return invalid(at: index) }
                let byte = bytes[position]
                let (from, to) = offset == 1 ? (low, high) : (UInt8(0x80), UInt8(0xBF))
                guard byte >= from, byte <= to else { return invalid(at: position) }
            }
            index += length
        }
        // Unreachable when the standard library and this walk agree; say where we stopped.
        return .failure(InvalidUTF8(line: line, column: 1, byte: 0))
    }
}
