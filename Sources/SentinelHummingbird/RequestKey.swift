import HTTPTypes
import Hummingbird

/// Where a request's routing key comes from: the value that keeps one user on
/// one traffic-split variant (a user id, a session, a tenant).
///
/// The same key always hashes to the same point, in every process and after
/// every restart, so a user stays on a variant while the weights stay the
/// same, and moves only from the variant that shrinks to the one that grows
/// when they change (see `docs/http.md`). A request without a key is routed
/// by the pipeline's seeded random draw instead.
public struct RequestKey: Sendable {
    let extract: @Sendable (Request, CoreRequestContextStorage) -> String?

    /// The key is the value of a header field, for example `X-User-ID`; an empty value counts as no key.
    public static func header(_ name: HTTPField.Name) -> RequestKey {
        RequestKey { request, _ in
            guard let value = request.headers[name], !value.isEmpty else { return nil }
            return value
        }
    }

    /// The key is a path parameter of the route, for example `user` in `/carts/:user`.
    public static func pathParameter(_ name: String) -> RequestKey {
        RequestKey { _, core in
            guard let value = core.parameters.get(name), !value.isEmpty else { return nil }
            return value
        }
    }

    /// The key is whatever `extract` returns for the request (`nil`: no key).
    public static func custom(_ extract: @escaping @Sendable (Request) -> String?) -> RequestKey {
        RequestKey { request, _ in extract(request) }
    }

    /// The key of `request`, if it has one.
    public func value(of request: Request, context: some RequestContext) -> String? {
        extract(request, context.coreContext)
    }
}
