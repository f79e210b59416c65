import Crypto
import Logging
import Resilience
import Sentinel

/// The tokens the admin API accepts, as SHA-256 hashes only (the file never
/// holds a token): `tokens: [{ id: alice, sha256: HEX }]`.
///
/// A presented token is hashed and compared with every stored hash in
/// constant time (no early exit, whichever entry matches), so the time taken
/// says nothing about how close a guess was. ``reload()`` reads the file
/// again (on SIGHUP); a file that no longer reads keeps the last good tokens.
public final class TokenStore: Sendable {
    struct Entry: Sendable, Hashable {
        var id: String
        var hash: [UInt8]
    }

    public let path: String
    private let logger: Logger
    private let entries: Locked<[Entry]>

    /// Reads `path`; errors name the file, line and field.
    public init(path: String, logger: Logger) throws(ConfigurationError) {
        self.path = path
        self.logger = logger
        entries = Locked(try Self.read(path))
    }

    /// The ids in the file, in file order.
    public var ids: [String] { entries.withLock { $0.map(\.id) } }

    /// The id whose token this is, or nil.
    public func identify(_ token: String) -> String? {
        let presented = Array(SHA256.hash(data: Array(token.utf8)))
        var found: String?
        for entry in entries.withLock({ $0 }) {
            var difference: UInt8 = 0
            for index in 0..<32 { difference |= entry.hash[index] ^ presented[index] }
            if difference == 0, found == nil { found = entry.id }
        }
        return found
    }

    /// Reads the file again; on failure keeps the tokens it had and says so.
    @discardableResult
    public func reload() -> Bool {
        do {
            let fresh = try Self.read(path)
            entries.withLock { $0 = fresh }
            logger.info("admin tokens reloaded", metadata: ["path": "\(path)", "tokens": "\(fresh.count)"])
            return true
        } catch {
            logger.error("admin tokens not reloaded; the previous tokens stay in force: \(error)")
            return false
        }
    }

    static func read(_ path: String) throws(ConfigurationError) -> [Entry] {
        let text: String
        switch ScriptFile.read(path: path, maximumFileSize: 1 << 20) {
        case .success(let file):
            switch file.text {
            case .success(let decoded): text = decoded
            case .failure(let invalid): throw ConfigurationError(file: path, line: invalid.line, message: "\(invalid)")
            }
        case .failure(let error): throw ConfigurationError(file: path, message: error.message)
        }
        return try parse(text, file: path)
    }

    static func parse(_ text: String, file: String) throws(ConfigurationError) -> [Entry] {
        let root = try YAMLValue.parse(text, file: file)
        let fields = try root.fields(allowing: ["tokens"])
        guard let list = fields["tokens"], !list.isNull else {
            throw root.error("a tokens file needs 'tokens': a list of { id, sha256 } (make one with `sentinel token create ID`)")
        }
        var entries: [Entry] = []
        for item in try list.sequence() {
            let f = try item.fields(allowing: ["id", "sha256"])
            guard let idNode = f["id"], let hashNode = f["sha256"] else { throw item.error("a token needs 'id' and 'sha256'") }
            let id = try idNode.string()
            guard isValidID(id) else {
                throw idNode.error("\"\(id.excerpt())\" is not a token id (1 to 64 letters, digits, _ - . @)")
            }
            let hex = try hashNode.string()
            guard let hash = hexBytes(hex), hash.count == 32, hex == hex.lowercased() else {
                throw hashNode.error("expected the lowercase hex SHA-256 of the token (64 characters), got \"\(hex.excerpt())\"")
            }
            guard !entries.contains(where: { $0.id == id }) else { throw idNode.error("the id \(id) appears twice") }
            guard !entries.contains(where: { $0.hash == hash }) else { throw hashNode.error("this hash appears twice") }
            entries.append(Entry(id: id, hash: hash))
        }
        return entries
    }

    static func isValidID(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 64 && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_-.@".contains($0)) }
    }

    static func hexBytes(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
