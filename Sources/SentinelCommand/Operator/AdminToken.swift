#if canImport(Glibc)
import Glibc
#endif

/// The bearer token an operator command sends, found in the documented order:
/// `--token-file F`, else `$SENTINEL_TOKEN_FILE`, else `$SENTINEL_TOKEN`.
///
/// The token never reaches the output or a log: its descriptions hide it, and
/// only ``authorization`` hands it out, for the `Authorization` header.
struct AdminToken: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    private let value: String

    /// The largest token file read (a token is 64 hex characters; anything far
    /// larger is not a token file).
    static let maximumFileSize = 64 << 10

    private init(value: String) { self.value = value }

    /// The `Authorization` header's value.
    var authorization: String { "Bearer \(value)" }

    var description: String { "(token hidden)" }
    var debugDescription: String { "(token hidden)" }

    /// Finds the token; a missing or unusable one is `.unauthenticated` (exit 3).
    ///
    /// A token file holds the raw token; surrounding whitespace (the final line
    /// break an editor adds) is ignored.
    static func resolve(
        tokenFile: String?, environment: (String) -> String? = Self.environment
    )
        throws(OperatorFailure) -> AdminToken
    {
        let source: String
        let raw: String
        if let path = tokenFile ?? environment("SENTINEL_TOKEN_FILE").flatMap({ $0.isEmpty ? nil : $0 }) {
            source = tokenFile != nil ? "--token-file \(path)" : "$SENTINEL_TOKEN_FILE \(path)"
            raw = try read(path, source: source)
        } else if let text = environment("SENTINEL_TOKEN"), !text.isEmpty {
            source = "$SENTINEL_TOKEN"
            raw = text
        } else {
            throw OperatorFailure(
                .unauthenticated,
                "no token: give --token-file FILE, or set $SENTINEL_TOKEN_FILE or $SENTINEL_TOKEN "
                    + "(`sentinel token create ID` makes one for the server's tokens file)")
        }
        let token = raw.trimmingWhitespace()
        guard !token.isEmpty else {
            throw OperatorFailure(.unauthenticated, "\(source): the token is empty")
        }
        // A header value cannot carry control characters, and a space inside
        // means the file holds something other than one token.
        guard !token.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7F }) else {
            throw OperatorFailure(.unauthenticated, "\(source): the token contains spaces or control characters")
        }
        return AdminToken(value: token)
    }

    /// The process environment.
    @Sendable static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    private static func read(_ path: String, source: String) throws(OperatorFailure) -> String {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw OperatorFailure(.unauthenticated, "\(source): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw OperatorFailure(.unauthenticated, "\(source): \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            bytes += chunk[..<count]
            guard bytes.count <= maximumFileSize else {
                throw OperatorFailure(.unauthenticated, "\(source): larger than \(maximumFileSize / 1024) KiB, not a token file")
            }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw OperatorFailure(.unauthenticated, "\(source): not UTF-8 text")
        }
        return text
    }
}

extension String {
    /// The text without leading and trailing whitespace and line breaks.
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}
