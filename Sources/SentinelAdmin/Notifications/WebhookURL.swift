/// Where an endpoint's notifications are posted: an `http://` or `https://`
/// URL. The whole URL is kept as a secret (a Slack webhook's path is its
/// token); logs, errors and metrics show only ``origin``.
///
/// ```swift
/// let url = try WebhookURL(NotificationSecret("https://hooks.example/T1/B2/xyz", source: .inline))
/// url.origin        // https://hooks.example
/// ```
public struct WebhookURL: Sendable, Hashable, CustomStringConvertible {
    /// The full URL.
    public let secret: NotificationSecret
    /// `http` or `https`.
    public let scheme: String
    /// The host, as written (brackets kept for IPv6).
    public let host: String
    /// The port, when the URL gives one.
    public let port: Int?

    /// Checks the URL; the error never quotes its path.
    public init(_ secret: NotificationSecret) throws(NotificationSecretError) {
        let text = secret.reveal()
        let lowered = text.lowercased()
        let rest: Substring
        if lowered.hasPrefix("https://") {
            scheme = "https"
            rest = text.dropFirst(8)
        } else if lowered.hasPrefix("http://") {
            scheme = "http"
            rest = text.dropFirst(7)
        } else {
            throw NotificationSecretError("expected an http:// or https:// URL")
        }
        guard !text.contains(where: { $0.isWhitespace || $0.isNewline || $0 == "\0" }) else {
            throw NotificationSecretError("a URL cannot hold spaces or line breaks")
        }
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !authority.contains("@") else {
            throw NotificationSecretError("credentials do not belong in the URL; use secret_header")
        }
        var hostPart = Substring(authority)
        var port: Int?
        if hostPart.hasPrefix("[") {
            guard let close = hostPart.firstIndex(of: "]") else { throw NotificationSecretError("an IPv6 host needs its closing ]") }
            let after = hostPart[hostPart.index(after: close)...]
            hostPart = hostPart[...close]
            if !after.isEmpty {
                guard after.first == ":", let number = Int(after.dropFirst()) else { throw NotificationSecretError("a port is a number") }
                port = number
            }
        } else if let colon = hostPart.lastIndex(of: ":") {
            guard let number = Int(hostPart[hostPart.index(after: colon)...]) else { throw NotificationSecretError("a port is a number") }
            port = number
            hostPart = hostPart[..<colon]
        }
        guard !hostPart.isEmpty, hostPart != "[]" else { throw NotificationSecretError("the URL has no host") }
        if let port, !(1...65535).contains(port) { throw NotificationSecretError("a port is 1 to 65535") }
        host = String(hostPart)
        self.port = port
        self.secret = secret
    }

    /// The path (and query) on its own, as a secret to redact from error
    /// text; nil when it is empty or `/`.
    var pathSecret: NotificationSecret? {
        let text = secret.reveal()
        let afterScheme = text.dropFirst(scheme.count + 3)
        guard let start = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) else { return nil }
        let path = afterScheme[start...]
        guard path.count > 1 else { return nil }
        return NotificationSecret(String(path), source: secret.source)
    }

    /// `scheme://host[:port]`: what logs and errors show.
    public var origin: String { "\(scheme)://\(host)" + (port.map { ":\($0)" } ?? "") }

    /// Whether the request goes over TLS.
    public var isHTTPS: Bool { scheme == "https" }

    /// ``origin`` followed by `/…` (the path is never shown).
    public var description: String { origin + "/…" }
}
