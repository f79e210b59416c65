import ArgumentParser

/// Where the sentinel's admin API is and how to authenticate: the options
/// every operator command that talks to a server shares.
struct ConnectionOptions: ParsableArguments {
    @Option(help: "The admin API's URL (else $SENTINEL_SERVER, else http://127.0.0.1:9464).")
    var server: String?

    @Option(
        name: .customLong("token-file"),
        help: "A file holding the raw token (else $SENTINEL_TOKEN_FILE, else $SENTINEL_TOKEN).")
    var tokenFile: String?

    @Option(name: .customLong("ca-file"), help: "Trust this CA (PEM) for an https server, instead of the system's.")
    var caFile: String?

    /// The server, token and trust resolved in the documented order.
    func resolve(environment: (String) -> String? = AdminToken.environment) throws(OperatorFailure) -> AdminConnection {
        let text = server ?? environment("SENTINEL_SERVER").flatMap { $0.isEmpty ? nil : $0 } ?? ServerURL.defaultServer
        let url = try ServerURL(text)
        if caFile != nil && !url.isHTTPS {
            throw OperatorFailure(.usage, "--ca-file applies to an https server; \(url) is plain http")
        }
        let token = try AdminToken.resolve(tokenFile: tokenFile, environment: environment)
        return AdminConnection(server: url, token: token, caFile: caFile)
    }
}

/// A resolved server, token and trust: what an ``AdminClient`` is made from.
struct AdminConnection: Sendable {
    let server: ServerURL
    let token: AdminToken
    /// A PEM file of the CA certificates to trust instead of the system's.
    let caFile: String?
}
