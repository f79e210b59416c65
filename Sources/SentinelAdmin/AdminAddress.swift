/// Where the admin API listens: `HOST:PORT` or `[IPv6]:PORT` (port 0 picks a
/// free port).
public struct AdminAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Reads `HOST:PORT` or `[IPv6]:PORT`.
    public init(parsing text: String) throws(AdminConfigurationError) {
        let host: Substring
        let port: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw AdminConfigurationError("--admin \(text.excerpt()): expected [IPv6]:PORT, such as [::1]:9464")
            }
            host = text[text.index(after: text.startIndex)..<close]
            port = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else {
                throw AdminConfigurationError("--admin \(text.excerpt()): expected HOST:PORT, such as 127.0.0.1:9464 (IPv6 as [::1]:9464)")
            }
            host = text[..<colon]
            port = text[text.index(after: colon)...]
        }
        guard !host.isEmpty else { throw AdminConfigurationError("--admin \(text.excerpt()): the host is missing") }
        guard let number = Int(port), (0...65535).contains(number) else {
            throw AdminConfigurationError("--admin \(text.excerpt()): the port must be a number from 0 to 65535")
        }
        self.host = String(host)
        self.port = number
    }

    /// Whether only this machine can reach the address.
    public var isLoopback: Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// `127.0.0.1:9464`, `[::1]:9464`.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// A configuration of the admin API that cannot work: the message says why.
public struct AdminConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
