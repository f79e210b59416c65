import Hummingbird
import Sentinel

/// A request's context in the admin API: who is calling, once authenticated.
public struct AdminRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// `operator:ID`, set by the authentication middleware.
    public var identity: Identity?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        identity = nil
    }

    /// Bodies are read up to this (413 above).
    public var maxUploadSize: Int { 64 * 1024 }

    /// The identity, or 401 when the route was reached without one.
    func caller() throws -> Identity {
        guard let identity else { throw AdminError(.unauthorized, "unauthorized", "missing or unknown bearer token") }
        return identity
    }
}
