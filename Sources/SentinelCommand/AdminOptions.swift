import ArgumentParser
import SentinelAdmin

#if canImport(Glibc)
import Glibc
#endif

/// `sentinel run`'s admin API options (docs/admin-api.md).
struct AdminOptions: ParsableArguments {
    @Option(name: .customLong("admin"), help: "Serve the admin API on HOST:PORT ([IPv6]:PORT; port 0 picks one), e.g. 127.0.0.1:9464.")
    var address: String?

    @Option(
        name: .customLong("admin-tokens"),
        help: "The tokens file (YAML: tokens: [{ id, sha256 }]); required with --admin, read again on SIGHUP.")
    var tokens: String?

    @Option(name: .customLong("admin-tls-cert"), help: "PEM certificate chain: serve HTTPS.")
    var tlsCertificate: String?

    @Option(name: .customLong("admin-tls-key"), help: "PEM private key of --admin-tls-cert.")
    var tlsKey: String?

    @Flag(name: .customLong("admin-insecure"), help: "Allow plain HTTP on an address other than loopback.")
    var insecure = false

    @Flag(name: .customLong("metrics-public"), help: "Serve /metrics without a token.")
    var metricsPublic = false

    @Option(help: "This instance's name in /v1/status, /v1/fleet and state.fleet (default: the host name; required with --fleet).")
    var instance: String?

    func validate() throws {
        guard let address else {
            let stray = [
                tokens.map { _ in "--admin-tokens" }, tlsCertificate.map { _ in "--admin-tls-cert" }, tlsKey.map { _ in "--admin-tls-key" },
                insecure ? "--admin-insecure" : nil, metricsPublic ? "--metrics-public" : nil,
            ].compactMap { $0 }
            if let first = stray.first { throw ValidationError("\(first) needs --admin HOST:PORT") }
            return
        }
        guard let tokens else { throw ValidationError("--admin needs --admin-tokens FILE (make a token with `sentinel token create ID`)") }
        var info = stat()
        guard stat(tokens, &info) == 0 else { throw ValidationError("--admin-tokens \(tokens): no such file") }
        if (tlsCertificate == nil) != (tlsKey == nil) {
            throw ValidationError("--admin-tls-cert and --admin-tls-key go together")
        }
        do {
            try configuration(address: address, tokens: tokens).checkListener()
        } catch {
            throw ValidationError(error.message)
        }
    }

    /// The admin configuration, when `--admin` is given.
    func configuration() throws(AdminConfigurationError) -> AdminConfiguration? {
        guard let address, let tokens else { return nil }
        return try configuration(address: address, tokens: tokens)
    }

    private func configuration(address: String, tokens: String) throws(AdminConfigurationError) -> AdminConfiguration {
        AdminConfiguration(
            address: try AdminAddress(parsing: address), tokensFile: tokens,
            tls: tlsCertificate.flatMap { certificate in tlsKey.map { .init(certificate: certificate, key: $0) } },
            allowInsecure: insecure, metricsPublic: metricsPublic)
    }

    /// The host name, for `--instance`'s default.
    var instanceName: String {
        if let instance { return instance }
        var name = [CChar](repeating: 0, count: 256)
        guard gethostname(&name, name.count) == 0 else { return "sentinel" }
        return String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
