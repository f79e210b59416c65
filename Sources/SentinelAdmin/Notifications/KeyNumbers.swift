import Sentinel

#if canImport(Glibc)
import Glibc
#endif

/// The numbers of an evidence table or an alert's fields, flattened for a
/// chat line: `canary.error_rate 0.0123 · calls 1200`, keys sorted, nested
/// tables as dotted paths, at most ``limit`` of them.
enum KeyNumbers {
    static let limit = 8

    /// `(path, text)` pairs of the numbers and booleans in `value`.
    static func of(_ value: JSONValue, limit: Int = KeyNumbers.limit) -> [(String, String)] {
        var found: [(String, String)] = []
        collect(value, path: "", depth: 0, into: &found, limit: limit)
        return found
    }

    /// `a 1 · b.c 0.25`.
    static func line(_ value: JSONValue, limit: Int = KeyNumbers.limit) -> String? {
        let pairs = of(value, limit: limit)
        return pairs.isEmpty ? nil : pairs.map { "\($0.0) \($0.1)" }.joined(separator: " · ")
    }

    private static func collect(_ value: JSONValue, path: String, depth: Int, into found: inout [(String, String)], limit: Int) {
        guard found.count < limit else { return }
        switch value {
        case .int, .double, .bool:
            if !path.isEmpty { found.append((path, text(value))) }
        case .string(let text) where ["NaN", "Infinity", "-Infinity"].contains(text):
            if !path.isEmpty { found.append((path, text)) }
        case .object(let object) where depth < 4:
            for key in object.keys.sorted() {
                collect(object[key]!, path: path.isEmpty ? key : path + "." + key, depth: depth + 1, into: &found, limit: limit)
            }
        default:
            break
        }
    }

    /// A value for people: whole numbers in full, others to 4 significant digits.
    static func text(_ value: JSONValue) -> String {
        switch value {
        case .int(let number): return String(number)
        case .double(let number): return text(number)
        case .bool(let flag): return flag ? "true" : "false"
        case .string(let string): return string.excerpt(80)
        case .null: return "null"
        case .array, .object: return value.jsonString().excerpt(80)
        }
    }

    static func text(_ number: Double) -> String {
        guard number.isFinite else { return number.isNaN ? "NaN" : (number > 0 ? "Infinity" : "-Infinity") }
        if number == number.rounded(), abs(number) < 1e15 { return String(Int64(number)) }
        let magnitude = abs(number)
        if magnitude >= 1e15 || magnitude < 1e-6 { return "\(number)" }
        let decimals = max(0, min(9, 3 - Int(floor(log10(magnitude)))))
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let rounded = (number * scale).rounded() / scale
        if rounded == rounded.rounded(), abs(rounded) < 1e15 { return String(Int64(rounded)) }
        return "\(rounded)"
    }
}
