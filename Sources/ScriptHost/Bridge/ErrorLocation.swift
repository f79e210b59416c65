/// Splits Lua's `chunk:line: message` into its parts.
struct ErrorLocation {
    var chunk: String?
    var line: Int?
    var text: String

    static func split(_ message: String) -> ErrorLocation {
        let bytes = Array(message.utf8)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: ":") {
                var end = index + 1
                while end < bytes.count, bytes[end] >= UInt8(ascii: "0"), bytes[end] <= UInt8(ascii: "9") { end += 1 }
                if end > index + 1, end < bytes.count, bytes[end] == UInt8(ascii: ":"), index > 0 {
                    let chunk = String(decoding: bytes[..<index], as: UTF8.self)
                    let line = Int(String(decoding: bytes[(index + 1)..<end], as: UTF8.self))
                    var rest = end + 1
                    if rest < bytes.count, bytes[rest] == UInt8(ascii: " ") { rest += 1 }
                    return ErrorLocation(chunk: chunk, line: line, text: String(decoding: bytes[rest...], as: UTF8.self))
                }
            }
            index += 1
        }
        return ErrorLocation(chunk: nil, line: nil, text: message)
    }

    /// `@policies/a.lua` → `policies/a.lua`; `=name` → `name`.
    static func displayName(_ chunkName: String) -> String {
        if let first = chunkName.first, first == "@" || first == "=" {
            return String(chunkName.dropFirst())
        }
        return chunkName
    }
}
