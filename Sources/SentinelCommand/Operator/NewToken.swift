import Crypto

/// A new admin API token and its hash, as `sentinel token create` prints them.
///
/// The server keeps only the lowercase hex SHA-256 of the token's UTF-8 bytes
/// (its tokens file: `tokens: [{ id: alice, sha256: HEX }]`).
struct NewToken: Sendable {
    /// 64 lowercase hex characters.
    let token: String

    /// The number of random bytes in a token.
    static let byteCount = 32
    /// The longest ID.
    static let maximumIDLength = 64

    /// A token of 32 bytes from the system's secure random source.
    static func random() -> NewToken { NewToken(token: Hex.random(byteCount: byteCount)) }

    /// The lowercase hex SHA-256 of the token's UTF-8 bytes.
    var sha256: String { Self.sha256(of: token) }

    /// The lowercase hex SHA-256 of `text`'s UTF-8 bytes.
    static func sha256(of text: String) -> String {
        Hex.string(SHA256.hash(data: Array(text.utf8)))
    }

    /// The tokens file's item: `- { id: ID, sha256: HEX }`.
    ///
    /// An ID that YAML would read as something other than that string (a
    /// number such as `42`, a word such as `true` or `null`, anything starting
    /// with `@`, which cannot start a plain scalar) is written in double quotes.
    func tokensFileItem(id: String) -> String {
        "- { id: \(Self.needsQuotes(id) ? "\"\(id)\"" : id), sha256: \(sha256) }"
    }

    /// Why `id` is not a valid ID, or nil when it is.
    static func problem(withID id: String) -> String? {
        guard (1...maximumIDLength).contains(id.unicodeScalars.count) else {
            return "ID \(id.isEmpty ? "\"\"" : id): expected 1 to \(maximumIDLength) characters"
        }
        let allowed = id.unicodeScalars.allSatisfy { scalar in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", "_", "-", ".", "@": true
            default: false
            }
        }
        return allowed ? nil : "ID \(id): expected letters, digits, _ - . @ only"
    }

    /// Whether YAML would not read `id` (already valid) back as the same plain string.
    static func needsQuotes(_ id: String) -> Bool {
        guard let first = id.unicodeScalars.first else { return true }
        if first == "@" || first == "-" || first == "." || ("0"..."9").contains(first) { return true }
        let words: Set<String> = ["null", "true", "false", "yes", "no", "on", "off", "y", "n"]
        return words.contains(id.lowercased())
    }
}
