import NIOSSL
import PostgresNIO
import Sentinel

/// Where a fleet's database is: parsed from a URL that must not carry a
/// password (it would show in the process list and in logs); the password
/// comes from a file or `PGPASSWORD`.
///
/// ```swift
/// let database = try FleetDatabase(url: "postgres://sentinel@db.internal:5432/sentinel?sslmode=require",
///                                  password: FleetDatabase.password(file: "/run/secrets/pg"))
/// ```
public struct FleetDatabase: Sendable, CustomStringConvertible {
    public enum TLSMode: String, Sendable {
        /// Plain TCP (loopback, or a network you trust).
        case disable
        /// TLS when the server offers it.
        case prefer
        /// TLS, with the server's certificate verified against the system's roots.
        case require
    }

    public var host: String
    public var port: Int
    public var username: String
    public var database: String
    public var tls: TLSMode
    /// The PostgreSQL schema that holds the fleet's tables (`?schema=`, default `public`): one database can hold
    /// several fleets, one per schema.
    public var schema: String
    /// Never printed: ``description`` leaves it out.
    var password: String?

    /// Reads `postgres://USER@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require][&schema=NAME]`
    /// (`postgresql://` too). A URL with a password is refused.
    public init(url: String, password: String?) throws(FleetConfigurationError) {
        let schemes = ["postgres://", "postgresql://"]
        guard let scheme = schemes.first(where: { url.hasPrefix($0) }) else {
            // The URL is not echoed: it may hold a password.
            throw FleetConfigurationError("--fleet: expected a URL of the form postgres://USER@HOST:PORT/DATABASE")
        }
        var rest = Substring(url.dropFirst(scheme.count))
        var query: Substring = ""
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        guard let slash = rest.firstIndex(of: "/") else {
            throw FleetConfigurationError("--fleet: the URL names no database (postgres://USER@HOST:PORT/DATABASE)")
        }
        let authority = rest[..<slash]
        let name = rest[rest.index(after: slash)...]
        guard !name.isEmpty, !name.contains("/") else {
            throw FleetConfigurationError("--fleet: the URL names no database (postgres://USER@HOST:PORT/DATABASE)")
        }
        guard let at = authority.lastIndex(of: "@") else {
            throw FleetConfigurationError("--fleet: the URL names no user (postgres://USER@HOST:PORT/DATABASE)")
        }
        let user = authority[..<at]
        if user.contains(":") {
            // Refused before anything else can print it.
            throw FleetConfigurationError(
                "--fleet: the URL carries a password; remove it and give it in PGPASSWORD or --fleet-password-file")
        }
        guard !user.isEmpty else { throw FleetConfigurationError("--fleet: the URL names no user") }
        var hostPort = authority[authority.index(after: at)...]
        var port = 5432
        if let colon = hostPort.lastIndex(of: ":"), !hostPort.hasSuffix("]") {
            guard let number = Int(hostPort[hostPort.index(after: colon)...]), (1...65535).contains(number) else {
                throw FleetConfigurationError("--fleet: the port is not a number from 1 to 65535")
            }
            port = number
            hostPort = hostPort[..<colon]
        }
        if hostPort.hasPrefix("["), hostPort.hasSuffix("]") { hostPort = hostPort.dropFirst().dropLast() }
        guard !hostPort.isEmpty else { throw FleetConfigurationError("--fleet: the URL names no host") }
        var tls = TLSMode.prefer
        var schema = "public"
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            switch parts.count == 2 ? parts[0] : "" {
            case "sslmode":
                guard let mode = TLSMode(rawValue: parts[1]) else {
                    throw FleetConfigurationError("--fleet: sslmode must be disable, prefer or require, got '\(parts[1])'")
                }
                tls = mode
            case "schema":
                guard Self.isValidSchema(parts[1]) else {
                    throw FleetConfigurationError(
                        "--fleet: schema '\(parts[1].excerpt)' must be 1 to 63 lowercase letters, digits or '_', not starting with a digit")
                }
                schema = parts[1]
            default:
                // Only the name: `password=…` must not be echoed.
                throw FleetConfigurationError(
                    "--fleet: unknown URL parameter '\(parts[0].excerpt)' (known: sslmode=disable|prefer|require, schema=NAME)")
            }
        }
        self.host = String(hostPort)
        self.port = port
        self.username = user.removingPercentEncoding
        self.database = name.removingPercentEncoding
        self.tls = tls
        self.schema = schema
        self.password = password
    }

    /// A schema name: `[a-z_][a-z0-9_]{0,62}`, not `pg_…` (PostgreSQL's own). Quoted in SQL, so reserved words are fine.
    static func isValidSchema(_ name: String) -> Bool {
        guard let first = name.utf8.first, (1...63).contains(name.utf8.count), !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first),
            !name.hasPrefix("pg_")
        else { return false }
        return name.utf8.allSatisfy {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                || $0 == UInt8(ascii: "_")
        }
    }

    /// The password in `file` (surrounding whitespace ignored), else `PGPASSWORD`, else none.
    public static func password(file: String?, environment: (String) -> String?) throws(FleetConfigurationError) -> String? {
        if let file {
            let text: String
            switch ScriptFile.read(path: file, maximumFileSize: 64 << 10) {
            case .success(let read):
                guard case .success(let decoded) = read.text else {
                    throw FleetConfigurationError("--fleet-password-file: \(file) is not UTF-8 text")
                }
                text = decoded
            case .failure(let failure):
                throw FleetConfigurationError("--fleet-password-file: \(file): \(failure.message)")
            }
            let password = text.trimmingWhitespace
            guard !password.isEmpty else { throw FleetConfigurationError("--fleet-password-file: \(file) is empty") }
            return password
        }
        return environment("PGPASSWORD").flatMap { $0.isEmpty ? nil : $0 }
    }

    /// `postgres://USER@HOST:PORT/DATABASE`: what logs and status show.
    public var description: String {
        "postgres://\(username)@\(host.contains(":") ? "[\(host)]" : host):\(port)/\(database)\(schema == "public" ? "" : "?schema=\(schema)")"
    }

    /// `application_name` of the sessions: `sentinel:INSTANCE:ROLE`, so that `pg_stat_activity` shows whose they are.
    func connectionConfiguration(applicationName: String) throws -> PostgresConnection.Configuration {
        let mode: PostgresConnection.Configuration.TLS
        switch tls {
        case .disable: mode = .disable
        case .prefer:
            // As libpq's `prefer`: encrypt when offered, without verifying the certificate (`require` verifies).
            var unverified = TLSConfiguration.makeClientConfiguration()
            unverified.certificateVerification = .none
            mode = .prefer(try NIOSSLContext(configuration: unverified))
        case .require: mode = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: mode)
        configuration.options.connectTimeout = .seconds(5)
        configuration.options.additionalStartupParameters = [
            // Bounds so that no session can hold the fleet's row for long: one stopped in the middle of a write
            // is ended by the server, and a lost peer is noticed by keepalives.
            (
                "options",
                "-c search_path=\"\(schema)\" -c idle_in_transaction_session_timeout=15000 -c lock_timeout=5000 "
                    + "-c statement_timeout=10000 -c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3"
            ),
            ("application_name", String(applicationName.prefix(63))),
        ]
        return configuration
    }
}

/// A bad `--fleet` URL, instance name or password file.
public struct FleetConfigurationError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

extension String {
    fileprivate var excerpt: String { count > 80 ? String(prefix(80)) + "…" : self }
}

extension StringProtocol {
    fileprivate var removingPercentEncoding: String {
        var bytes: [UInt8] = []
        var iterator = utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next(),
                let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    fileprivate var trimmingWhitespace: String {
        let isSpace: (Character) -> Bool = { $0.isWhitespace }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
