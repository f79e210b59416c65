import Sentinel

/// A top-level constant of a script, changed for one run: the scenario's
/// `constants` section, such as
///
/// ```yaml
/// constants:
///   canary.lua: { REQUIRE_APPROVAL: true }
/// ```
///
/// The script must declare it on one line, at the start of the line, as
/// `local NAME = LITERAL` where the literal is `true`, `false`, a number or a
/// quoted string; the run uses the scenario's value instead (of the same
/// kind), and the file is left as it is. This is how a scenario runs a
/// shipped recipe with one of its options on, without a copy of the script
/// that could drift from it.
public struct ConstantOverride: Sendable, Hashable {
    /// The script's file name in the policies folder, such as `canary.lua`.
    public var file: String
    /// The constant's name, a Lua identifier.
    public var name: String
    /// A boolean, a number or a string.
    public var value: JSONValue
    var location: SourceLocation

    /// An override of `name` in `file`; `location` is where the scenario
    /// wrote it, for the errors found when the run reads the script.
    public init(file: String, name: String, value: JSONValue, location: SourceLocation = SourceLocation()) {
        self.file = file
        self.name = name
        self.value = value
        self.location = location
    }

    /// The value as Lua source: `true`, `0.02`, `"text"`.
    var luaLiteral: String {
        switch value {
        case .bool(let flag): return flag ? "true" : "false"
        case .int(let number): return String(number)
        case .double(let number): return "\(number)"
        case .string(let text): return Self.quoted(text)
        default: return "nil"
        }
    }

    /// A Lua string literal: quotes, backslashes and control characters escaped.
    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                // Three digits, so a digit after the escape cannot extend it.
                let digits = String(scalar.value)
                result += "\\" + String(repeating: "0", count: 3 - digits.count) + digits
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }

    /// Whether `name` is a Lua identifier (and not a keyword).
    static func isIdentifier(_ name: String) -> Bool {
        guard let first = name.utf8.first, first == UInt8(ascii: "_") || isLetter(first) else { return false }
        return name.utf8.allSatisfy { $0 == UInt8(ascii: "_") || isLetter($0) || (0x30...0x39).contains($0) }
            && !keywords.contains(name)
    }

    private static func isLetter(_ byte: UInt8) -> Bool { (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) }

    private static let keywords: Set<String> = [
        "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if", "in", "local", "nil",
        "not", "or", "repeat", "return", "then", "true", "until", "while",
    ]
}
