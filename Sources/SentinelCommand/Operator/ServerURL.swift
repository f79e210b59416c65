/// The base URL of a sentinel's admin API, and the request URLs under it.
///
/// `http://HOST:PORT` or `https://HOST:PORT`, optionally with a path prefix
/// when a proxy serves the API under one (`https://ops.example/sentinel`).
struct ServerURL: Sendable, Hashable, CustomStringConvertible {
    /// The URL as given, without a trailing slash.
    let base: String
    /// Whether requests go over TLS.
    let isHTTPS: Bool

    /// The default when neither `--server` nor `$SENTINEL_SERVER` is given.
    static let defaultServer = "http://127.0.0.1:9464"

    /// Checks `text`; the error names what is wrong.
    init(_ text: String) throws(OperatorFailure) {
        let lowered = text.lowercased()
        let rest: Substring
        if lowered.hasPrefix("http://") {
            isHTTPS = false
            rest = text.dropFirst(7)
        } else if lowered.hasPrefix("https://") {
            isHTTPS = true
            rest = text.dropFirst(8)
        } else {
            throw OperatorFailure(.usage, "server URL \(text): expected http://HOST:PORT or https://HOST:PORT")
        }
        let authority = rest.prefix { $0 != "/" }
        guard !authority.isEmpty, authority.first != ":" else {
            throw OperatorFailure(.usage, "server URL \(text): no host")
        }
        guard !text.contains(where: { $0.isWhitespace || $0 == "?" || $0 == "#" }) else {
            throw OperatorFailure(.usage, "server URL \(text): expected no spaces, query or fragment")
        }
        guard !authority.contains("@") else {
            // Credentials in a URL end up in shell history and logs; the token goes in a file.
            throw OperatorFailure(.usage, "server URL: credentials do not belong in the URL; use --token-file")
        }
        var base = text
        while base.hasSuffix("/") { base.removeLast() }
        self.base = base
    }

    var description: String { base }

    /// The URL of `path` (which starts with `/`) with `query` percent-encoded.
    func url(_ path: String, query: [(name: String, value: String)] = []) -> String {
        var url = base + path
        if !query.isEmpty {
            url += "?" + query.map { "\(Self.percentEncode($0.name))=\(Self.percentEncode($0.value))" }.joined(separator: "&")
        }
        return url
    }

    /// Percent-encodes everything but RFC 3986's unreserved characters (so a
    /// `+` in a time offset stays a plus, not a space).
    static func percentEncode(_ text: String) -> String {
        var encoded = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                encoded += "%" + Hex.byte(byte).uppercased()
            }
        }
        return encoded
    }
}
