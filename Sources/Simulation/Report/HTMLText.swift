import Sentinel

/// Text made safe for the report's HTML: everything a scenario or a script
/// wrote (names, reasons, evidence, alert messages) goes through here, so it
/// can only ever be text.
enum HTMLText {
    /// Escapes the five characters that HTML gives a meaning, in text and in
    /// quoted attribute values alike; control characters other than tab and
    /// line breaks become U+FFFD (HTML has no place for them).
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            case "\u{0}"..."\u{1F}", "\u{7F}"..."\u{9F}": out += "\u{FFFD}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// JSON for a `<script type="application/json">` block: `<`, `>` and `&`
    /// written as `\u003c`, `\u003e`, `\u0026`, so no `</script>` or `<!--`
    /// inside a string can end the block. They occur only inside JSON
    /// strings, where the escapes mean the same characters.
    static func scriptJSON(_ value: JSONValue) -> String {
        var out = ""
        for character in value.jsonString().unicodeScalars {
            switch character {
            case "<": out += "\\u003c"
            case ">": out += "\\u003e"
            case "&": out += "\\u0026"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    /// An `id`-safe token: letters, digits, `-` and `_` kept, everything else `_`.
    static func identifier(_ text: String) -> String {
        String(
            text.unicodeScalars.map { scalar -> Character in
                switch scalar {
                case "a"..."z", "A"..."Z", "0"..."9", "-", "_": Character(scalar)
                default: "_"
                }
            })
    }
}
