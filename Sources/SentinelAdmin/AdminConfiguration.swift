/// How the admin API listens and whom it answers.
public struct AdminConfiguration: Sendable {
    /// A certificate and key (PEM files) to serve HTTPS.
    public struct TLS: Sendable, Hashable {
        public var certificate: String
        public var key: String
        public init(certificate: String, key: String) {
            self.certificate = certificate
            self.key = key
        }
    }

    /// What the API accepts and how long it waits.
    public struct Limits: Sendable, Hashable {
        /// Largest request body (413 above it).
        public var bodySize = 64 * 1024
        /// Longest a request may take to answer, the event stream aside (503 `timeout`).
        public var requestTimeout: Duration = .seconds(10)
        /// An idle connection is closed after this.
        public var idleTimeout: Duration = .seconds(60)
        /// Most event streams open at once (503 `too_many_streams`).
        public var eventStreams = 16
        /// Authentication failures per minute before further ones are answered late.
        public var freeFailuresPerMinute = 10
        /// A comment line on an idle event stream this often.
        public var keepalive: Duration = .seconds(15)
        public init() {}
    }

    public var address: AdminAddress
    /// The tokens file (`tokens: [{ id, sha256 }]`), read again on SIGHUP.
    public var tokensFile: String
    public var tls: TLS?
    /// Plain HTTP on an address other than loopback (refused without it).
    public var allowInsecure: Bool
    /// `/metrics` without a token.
    public var metricsPublic: Bool
    public var limits: Limits

    public init(
        address: AdminAddress, tokensFile: String, tls: TLS? = nil, allowInsecure: Bool = false, metricsPublic: Bool = false,
        limits: Limits = Limits()
    ) {
        self.address = address
        self.tokensFile = tokensFile
        self.tls = tls
        self.allowInsecure = allowInsecure
        self.metricsPublic = metricsPublic
        self.limits = limits
    }

    /// Refuses a plain-HTTP listener that other machines could reach (without `allowInsecure`).
    public func checkListener() throws(AdminConfigurationError) {
        if tls == nil, !address.isLoopback, !allowInsecure {
            throw AdminConfigurationError(
                "--admin \(address): an address other than loopback needs --admin-tls-cert and --admin-tls-key (or --admin-insecure): tokens would cross the network in clear text"
            )
        }
    }
}
